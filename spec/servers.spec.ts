import { expect } from "chai";
import { InterfaceError, connect } from "cratedb-fetch";
import { expectThrow } from "./support/helpers.js";

describe("connect(): server URLs", () => {
  it("defaults to http://localhost:4200 when servers are missing or empty", () => {
    expect(connect().servers).to.deep.equal(["http://localhost:4200"]);
    expect(connect("").servers).to.deep.equal(["http://localhost:4200"]);
    expect(connect([]).servers).to.deep.equal(["http://localhost:4200"]);
    expect(connect(undefined, {}).servers).to.deep.equal(["http://localhost:4200"]);
  });

  it("adds http:// and port 4200 to a scheme-less host", () => {
    expect(connect("db1").servers).to.deep.equal(["http://db1:4200"]);
    expect(connect("db1:4201").servers).to.deep.equal(["http://db1:4201"]);
    expect(connect("db1:80").servers).to.deep.equal(["http://db1:80"]);
  });

  it("applies standard ports when a scheme is given", () => {
    expect(connect("https://h/").servers).to.deep.equal(["https://h:443"]);
    expect(connect("http://h").servers).to.deep.equal(["http://h:80"]);
    expect(connect("HTTPS://H.Example.COM:4200").servers).to.deep.equal(["https://h.example.com:4200"]);
  });

  it("splits a string on whitespace and accepts arrays (which may hold lists too)", () => {
    expect(connect("a:4200  b:4201\n\tc").servers).to.deep.equal(["http://a:4200", "http://b:4201", "http://c:4200"]);
    expect(connect(["http://a:4200", "b"]).servers).to.deep.equal(["http://a:4200", "http://b:4200"]);
    expect(connect({ servers: "x y" }).servers).to.deep.equal(["http://x:4200", "http://y:4200"]);
  });

  it("keeps a path as a prefix without the trailing slash", () => {
    expect(connect("http://h:4200/crate/").servers).to.deep.equal(["http://h:4200/crate"]);
    expect(connect("h/a/b").servers).to.deep.equal(["http://h:4200/a/b"]);
    expect(connect("http://h:4200/").servers).to.deep.equal(["http://h:4200"]);
  });

  it("understands IPv6 in brackets", () => {
    expect(connect("[::1]:4200").servers).to.deep.equal(["http://[::1]:4200"]);
    expect(connect("[::1]").servers).to.deep.equal(["http://[::1]:4200"]);
    expect(connect("https://[2001:db8::1]/").servers).to.deep.equal(["https://[2001:db8::1]:443"]);
  });

  it("strips credentials from servers and activeServers", () => {
    const conn = connect(["https://user:p%40ss@h:4200", "u2:secret2@h2"]);
    expect(conn.servers).to.deep.equal(["https://h:4200", "http://h2:4200"]);
    expect(conn.activeServers).to.deep.equal(["https://h:4200", "http://h2:4200"]);
    expect(JSON.stringify(conn.servers)).not.to.match(/p%40ss|p@ss|secret2/);
  });

  it("drops duplicate servers", () => {
    expect(connect("a a:4200 http://a:4200").servers).to.deep.equal(["http://a:4200"]);
  });

  it("rejects what is not an http(s) URL with InterfaceError naming the entry without its password", () => {
    const err = expectThrow(() => connect("crate://user:hunter22@h:4200"), InterfaceError, /crate:\/\/\*\*\*@h:4200/);
    expect(err.message).not.to.include("hunter22");
    expectThrow(() => connect("ftp://h"), InterfaceError, /only http/);
    expectThrow(() => connect("http://h:99999"), InterfaceError, /h:99999/);
    expectThrow(() => connect("http://h:4200/?x=1"), InterfaceError, /query/);
    expectThrow(() => connect("::1"), InterfaceError);
    expectThrow(() => connect([42 as unknown as string]), InterfaceError, /must be strings/);
    expectThrow(() => connect(42 as unknown as string), InterfaceError);
  });

  it("rejects percent-escapes that are not UTF-8 in credentials without echoing the password", () => {
    const err = expectThrow(() => connect("http://u:bad%FFpw@h"), InterfaceError, /http:\/\/\*\*\*@h'/);
    expect(err.message).not.to.include("bad");
  });
});
