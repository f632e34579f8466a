// Renders TeX to HTML for hooks/maths.py. One JSON request per line on stdin, one JSON reply per line on stdout:
//   {"items": [{"tex": "...", "display": true}]}  ->  {"html": ["..."], "errors": [null | "message"]}
// A formula KaTeX rejects is reported in "errors" and rendered with KaTeX's own red error markup, so the
// Python side can fail a strict build while a preview still shows where the mistake is.
"use strict";
const katex = require("katex");
const readline = require("readline");

const render = ({ tex, display }) => {
  // HTML for the eye, hidden MathML for screen readers (KaTeX marks the HTML aria-hidden).
  const options = { displayMode: display, output: "htmlAndMathml", strict: "warn", trust: false };
  try {
    return [katex.renderToString(tex, { ...options, throwOnError: true }), null];
  } catch (err) {
    return [katex.renderToString(tex, { ...options, throwOnError: false }), String(err.message || err)];
  }
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const results = JSON.parse(line).items.map(render);
  process.stdout.write(JSON.stringify({ html: results.map((r) => r[0]), errors: results.map((r) => r[1]) }) + "\n");
});
