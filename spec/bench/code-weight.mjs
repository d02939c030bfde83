// node spec/bench/code-weight.mjs [lib/entry/lite.ts]: a connect+query app's initial load (splitting), gzip as is and with every
// string literal longer than N characters emptied (messages gone): how much of the weight is code.
import { build } from "esbuild";
import zlib from "node:zlib";
import ts from "typescript";
const entry = process.argv[2] ?? "lib/entry/lite.ts";
const r = await build({ stdin: { contents: `import { connect } from "./${entry}"; globalThis.q = (u, s) => connect(u).query(s);`, resolveDir: process.cwd(), loader: "ts" },
  bundle: true, minify: true, format: "esm", platform: "browser", target: "es2022", write: false, metafile: true, splitting: true, outdir: "/tmp/code-weight", logLevel: "silent" });
const outs = r.metafile.outputs;
const app = Object.keys(outs).find((k) => outs[k].entryPoint === "<stdin>");
const initial = new Set(); const st = [app];
while (st.length) { const k = st.pop(); if (initial.has(k)) continue; initial.add(k); for (const i of outs[k].imports) if (i.kind === "import-statement") st.push(i.path); }
const files = r.outputFiles.filter((f) => [...initial].some((k) => f.path.endsWith(k.replace(/^.*code-weight/, ""))));
const gz = (s) => zlib.gzipSync(s).byteLength;
function strip(code, n) {
  const sc = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, code);
  const spans = []; const stack = []; let k;
  while ((k = sc.scan()) !== ts.SyntaxKind.EndOfFileToken) {
    if (k === ts.SyntaxKind.SlashToken || k === ts.SyntaxKind.SlashEqualsToken) { sc.reScanSlashToken(); continue; }
    if (k === ts.SyntaxKind.OpenBraceToken || k === ts.SyntaxKind.DollarToken) { stack.push("b"); continue; }
    if (k === ts.SyntaxKind.CloseBraceToken) { if (stack.pop() === "t") { const t = sc.reScanTemplateToken(false); spans.push([sc.getTokenPos(), sc.getTextPos()]); if (t === ts.SyntaxKind.TemplateMiddle) stack.push("t"); } continue; }
    if (k === ts.SyntaxKind.StringLiteral || k === ts.SyntaxKind.NoSubstitutionTemplateLiteral) spans.push([sc.getTokenPos(), sc.getTextPos()]);
    if (k === ts.SyntaxKind.TemplateHead) { spans.push([sc.getTokenPos(), sc.getTextPos()]); stack.push("t"); }
  }
  let out = "", last = 0;
  for (const [a, b] of spans) { out += code.slice(last, a); const s = code.slice(a, b); out += s.length > n + 2 ? s[0] + (s.endsWith("${") ? "${" : s[s.length - 1]) : s; last = b; }
  return out + code.slice(last);
}
const all = files.map((f) => f.text);
console.log(entry, "initial files", files.length, "minified", all.join("").length, "gz", all.reduce((n, c) => n + gz(c), 0));
for (const n of [20, 10]) { const s = all.map((c) => strip(c, n)); console.log(`  strings > ${n} chars emptied: minified`, s.join("").length, "gz", s.reduce((n2, c) => n2 + gz(c), 0)); }
