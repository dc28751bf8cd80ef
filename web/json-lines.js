// JSON text helpers for the task editor: where each value starts (so a validator path such as
// `bodies[3].shape.sphere.radius` can be shown at its line) and a small syntax highlighter.

/** Map from every path in a JSON text (the validator's form: `a.b[2].c`, the root is '') to the
 * 1-based line where its key (or, in arrays, its value) starts. Stops quietly at a syntax
 * error, keeping what it found before it. */
export function pathLines(text) {
  const lines = new Map([['', 1]]);
  let i = 0;
  let line = 1;
  const fail = () => { throw new SyntaxError('bad JSON'); };
  const space = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) {
      if (text[i] === '\n') line += 1;
      i += 1;
    }
  };
  const string = () => {
    if (text[i] !== '"') fail();
    i += 1;
    let s = '';
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\n') fail();
      if (text[i] === '\\') { s += text[i + 1] ?? ''; i += 2; } else { s += text[i]; i += 1; }
    }
    if (i >= text.length) fail();
    i += 1;
    return s;
  };
  const value = (path) => {
    space();
    if (!lines.has(path)) lines.set(path, line);
    const c = text[i];
    if (c === '{') {
      i += 1;
      space();
      if (text[i] === '}') { i += 1; return; }
      for (;;) {
        space();
        const keyLine = line;
        const key = string();
        const child = path === '' ? key : `${path}.${key}`;
        lines.set(child, keyLine);
        space();
        if (text[i] !== ':') fail();
        i += 1;
        value(child);
        space();
        if (text[i] === ',') { i += 1; continue; }
        if (text[i] === '}') { i += 1; return; }
        fail();
      }
    } else if (c === '[') {
      i += 1;
      space();
      if (text[i] === ']') { i += 1; return; }
      for (let k = 0; ; k += 1) {
        value(`${path}[${k}]`);
        space();
        if (text[i] === ',') { i += 1; continue; }
        if (text[i] === ']') { i += 1; return; }
        fail();
      }
    } else if (c === '"') {
      string();
    } else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
      if (!m) fail();
      i += m[0].length;
    }
  };
  try { value(''); } catch { /* keep the paths found before the syntax error */ }
  return lines;
}

/** The line an issue `{path, message}` belongs to: the "line N" a parser error names, else the
 * line of its path (or of the nearest enclosing path that exists in the text), else 1. */
export function issueLine(issue, lines) {
  const at = /at line (\d+)/.exec(issue.message);
  if (at) return Number(at[1]);
  let path = issue.path ?? '';
  for (;;) {
    if (lines.has(path)) return lines.get(path);
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    if (cut <= 0) return 1;
    path = path.slice(0, cut);
  }
}

const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const TOKEN = /("(?:[^"\\]|\\.)*"?)(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;

/** One line of JSON as HTML with `<span class="json-key|json-string|json-number|json-literal">`. */
export function highlightLine(line) {
  let out = '';
  let last = 0;
  for (const m of line.matchAll(TOKEN)) {
    out += escape(line.slice(last, m.index));
    const [whole, str, colon, num, literal] = m;
    if (str !== undefined) {
      out += `<span class="${colon ? 'json-key' : 'json-string'}">${escape(str)}</span>${colon ? escape(colon) : ''}`;
    } else if (num !== undefined) {
      out += `<span class="json-number">${num}</span>`;
    } else {
      out += `<span class="json-literal">${literal}</span>`;
    }
    last = m.index + whole.length;
  }
  return out + escape(line.slice(last));
}
