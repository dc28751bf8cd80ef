// A small JSON syntax highlighter for the task editor (one line at a time, as HTML).

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
