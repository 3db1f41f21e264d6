/**
 * Renders the markdown of a work notification to HTML the way DingTalk shows it, for the
 * sandbox inbox. DingTalk supports a small subset: headings (# to ######), bold, italic,
 * links, images, ordered and unordered lists, block quotes and line breaks. Everything is
 * escaped first and only those constructs are turned into tags, so a message can never
 * inject markup; links keep only http(s) targets.
 */
export function markdownToHtml(markdown: string): string {
  const blocks = markdown.replace(/\r\n?/g, '\n').split(/\n{2,}/);
  return blocks
    .map((b) => b.trim())
    .filter(Boolean)
    .map(renderBlock)
    .join('\n');
}

export const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );

function renderBlock(block: string): string {
  const lines = block.split('\n');
  const heading = /^(#{1,6})\s+(.*)$/.exec(block);
  if (heading && lines.length === 1) {
    const level = heading[1].length;
    return `<h${level}>${inline(heading[2])}</h${level}>`;
  }
  if (lines.every((l) => /^>\s?/.test(l))) {
    return `<blockquote>${renderLines(lines.map((l) => l.replace(/^>\s?/, '')))}</blockquote>`;
  }
  if (lines.every((l) => /^[-*+]\s+/.test(l))) {
    return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^[-*+]\s+/, ''))}</li>`).join('')}</ul>`;
  }
  if (lines.every((l) => /^\d+\.\s+/.test(l))) {
    return `<ol>${lines.map((l) => `<li>${inline(l.replace(/^\d+\.\s+/, ''))}</li>`).join('')}</ol>`;
  }
  return `<p>${renderLines(lines)}</p>`;
}

/** Lines of one paragraph: a heading line inside a paragraph still shows as a heading. */
function renderLines(lines: string[]): string {
  return lines
    .map((l) => {
      const h = /^(#{1,6})\s+(.*)$/.exec(l);
      return h ? `<strong class="h${h[1].length}">${inline(h[2])}</strong>` : inline(l);
    })
    .join('<br>');
}

const safeUrl = (url: string): string | undefined => (/^https?:\/\/[^\s"'<>]+$/i.test(url) ? url : undefined);

/** Bold, italic, images and links within one line; the text is escaped before any tag is made. */
function inline(text: string): string {
  let out = escapeHtml(text);
  out = out.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (whole, alt: string, url: string) => {
    const u = safeUrl(url.replace(/&amp;/g, '&'));
    return u ? `<img alt="${alt}" src="${escapeHtml(u)}">` : whole;
  });
  out = out.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (whole, label: string, url: string) => {
    const u = safeUrl(url.replace(/&amp;/g, '&'));
    return u ? `<a href="${escapeHtml(u)}" rel="noopener noreferrer">${label}</a>` : whole;
  });
  out = out.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  out = out.replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
  return out;
}
