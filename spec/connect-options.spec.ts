import { expect } from "chai";
import { Connection, Converter, DefaultTypeConverter, InterfaceError, NotSupportedError, connect } from "cratedb-fetch";
import { expectThrow, notApplicable, runtime } from "./support/helpers.js";

describe("connect(): options", () => {
  it("returns a Connection synchronously and does no I/O (an unreachable server is fine)", () => {
    const conn = connect("http://127.0.0.1:1", { timeout: 10 });
    expect(conn).to.be.instanceOf(Connection);
    expect(conn.closed).to.equal(false);
  });

  it("accepts every documented option at once", () => {
    const conn = connect("http://127.0.0.1:1", {
      username: "u", password: "p", schema: "doc", timeout: 1000, backoffFactor: 10, maxRetries: 3,
      retryInterval: 5000, errorTrace: true, compress: 1024, int64: "bigint", numeric: "string",
      converter: new DefaultTypeConverter(), rowMode: "object", headers: { "x-app": "spec" }, logger: { warn() {} },
    });
    expect(conn.servers).to.deep.equal(["http://127.0.0.1:1"]);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ["timeout <= 0", { timeout: 0 }, /timeout/],
    ["timeout not a number", { timeout: "5" }, /timeout/],
    ["negative backoffFactor", { backoffFactor: -1 }, /backoffFactor/],
    ["fractional maxRetries", { maxRetries: 1.5 }, /maxRetries/],
    ["negative retryInterval", { retryInterval: -5 }, /retryInterval/],
    ["non-boolean errorTrace", { errorTrace: "yes" }, /errorTrace/],
    ["non-boolean verifySslCert", { verifySslCert: 0 }, /verifySslCert/],
    ["compress of another type", { compress: "gzip" }, /compress/],
    ["negative compress", { compress: -1 }, /compress/],
    ["unknown int64 mode", { int64: "long" }, /int64/],
    ["unknown numeric mode", { numeric: "bigint" }, /numeric/],
    ["unknown rowMode", { rowMode: "dict" }, /rowMode/],
    ["converter that is not a Converter", { converter: { 11: () => 1 } }, /converter/],
    ["fetch that is not a function", { fetch: "fetch" }, /fetch/],
    ["headers that are not strings", { headers: { a: 1 } }, /Header 'a'/],
    ["an invalid header name", { headers: { "a b": "x" } }, /header name/],
    ["logger with a non-function", { logger: { warn: 1 } }, /logger.warn/],
    ["empty schema", { schema: "" }, /schema/],
    ["poolSize 0", { poolSize: 0 }, /poolSize/],
    ["certFile without keyFile", { certFile: "-----BEGIN CERTIFICATE-----" }, /together/],
    ["jwtToken with username", { jwtToken: "t", username: "u" }, /jwtToken.*username/],
    ["password without any user", { password: "p" }, /needs 'username'/],
    ["an Authorization header with username", { username: "u", headers: { Authorization: "x" } }, /Authorization/],
    ["keepalive tuning with keepalive off", { socketKeepalive: false, socketTcpKeepidle: 1000 }, /socketKeepalive/],
  ];
  for (const [what, options, re] of bad) {
    it(`throws InterfaceError for ${what}`, () => {
      expectThrow(() => connect("http://h", options), InterfaceError, re);
    });
  }

  it("names the camelCase option for a Python-style name", () => {
    expectThrow(() => connect("h", { verify_ssl_cert: false } as never), InterfaceError, /Unknown option 'verify_ssl_cert' \(did you mean 'verifySslCert'\?\)/);
    expectThrow(() => connect("h", { nope: 1 } as never), InterfaceError, /Unknown option 'nope'/);
  });

  it("rejects servers given twice and options given twice", () => {
    expectThrow(() => connect("a", { servers: "b" }), InterfaceError, /either/);
    expectThrow(() => connect({ servers: "a" }, {}), InterfaceError, /once/);
    expectThrow(() => connect("a", 5 as never), InterfaceError, /object/);
  });

  it("accepts Converter instances of both classes", () => {
    expect(connect("h", { converter: new Converter() }).closed).to.equal(false);
    expect(connect("h", { converter: new DefaultTypeConverter({ 25: (v) => v }) }).closed).to.equal(false);
  });

  it("reads a PEM option that is a path, and names a missing file in InterfaceError", function () {
    if (runtime === "browser" || runtime === "workerd") return notApplicable(this, "no file system");
    expectThrow(() => connect("https://h", { caCert: "/nonexistent/ca.pem" }), InterfaceError, /caCert.*\/nonexistent\/ca\.pem/);
  });

  it("refuses TCP keepalive interval and count on Node before 26.4 with NotSupportedError", function () {
    if (runtime !== "node") return notApplicable(this, "Node-specific rule");
    const [major = 0, minor = 0] = (globalThis as unknown as { process: { versions: { node: string } } }).process.versions.node.split(".").map(Number);
    if (major > 26 || (major === 26 && minor >= 4)) {
      expect(connect("h", { socketTcpKeepintvl: 1000, socketTcpKeepcnt: 3 }).closed).to.equal(false);
      return;
    }
    expectThrow(() => connect("h", { socketTcpKeepintvl: 1000 }), NotSupportedError, /socketTcpKeepintvl.*Node\.js/);
    expectThrow(() => connect("h", { socketTcpKeepcnt: 3 }), NotSupportedError, /socketTcpKeepcnt.*Node\.js/);
    // What Node can do is accepted.
    expect(connect("h", { socketKeepalive: true, socketTcpKeepidle: 30_000, poolSize: 4 }).closed).to.equal(false);
  });

  it("refuses TLS and socket options together with a custom fetch on Node", function () {
    if (runtime !== "node") return notApplicable(this, "Node-specific rule");
    expectThrow(() => connect("https://h", { fetch: globalThis.fetch, caCert: "-----BEGIN CERTIFICATE-----" }), NotSupportedError, /caCert.*custom 'fetch'/);
    expectThrow(() => connect("https://h", { fetch: globalThis.fetch, verifySslCert: false }), NotSupportedError, /verifySslCert/);
    // Defaults are not checked.
    expect(connect("https://h", { fetch: globalThis.fetch, verifySslCert: true, socketKeepalive: true }).closed).to.equal(false);
  });
});
