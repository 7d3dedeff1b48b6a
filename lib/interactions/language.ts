// Picks the language of a page from what the user agent asked for, among the catalogues there are.

// Bounds the work a hostile header or parameter can cause; real ones list a handful of tags.
const MAX_TAGS = 20;
const MAX_INPUT = 1024;

/** The tags of `Accept-Language` (RFC 9110 §12.5.4), best first; `*` and `q=0` left out. */
function acceptedLanguages(header: string): string[] {
  const ranges: { tag: string; q: number; order: number }[] = [];
  for (const [order, part] of header.slice(0, MAX_INPUT).split(',').slice(0, MAX_TAGS).entries()) {
    const [range = '', ...params] = part.split(';').map((p) => p.trim());
    if (!range || range === '*') continue;
    let q = 1;
    for (const param of params) {
      const match = /^q=([01](?:\.\d{0,3})?)$/i.exec(param);
      if (match) q = Number(match[1]);
    }
    if (q > 0) ranges.push({ tag: range, q, order });
  }
  return ranges.sort((a, b) => b.q - a.q || a.order - b.order).map((r) => r.tag);
}

/** The tags of `ui_locales` (OpenID Connect Core §3.1.2.1): space-separated, best first. */
function uiLocales(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value.slice(0, MAX_INPUT).split(' ').filter(Boolean).slice(0, MAX_TAGS);
}

/**
 * The available language that best matches `wanted` (RFC 4647 §3.4 lookup, case-insensitive:
 * `de-CH` falls back to `de`), or one sharing its primary language (`pt` finds `pt-BR`).
 */
function match(wanted: string, available: readonly string[]): string | undefined {
  const byLower = new Map(available.map((tag) => [tag.toLowerCase(), tag]));
  const parts = wanted.toLowerCase().split('-');
  for (let n = parts.length; n > 0; n -= 1) {
    const found = byLower.get(parts.slice(0, n).join('-'));
    if (found) return found;
  }
  const primary = parts[0];
  return available.find((tag) => tag.toLowerCase().split('-')[0] === primary);
}

/**
 * The page's language: the first `ui_locales` tag there is a catalogue for, else the best
 * `Accept-Language` one, else `fallback`.
 *
 * @internal
 */
export function pickLanguage(
  request: { uiLocales?: unknown; acceptLanguage?: string | undefined },
  available: readonly string[],
  fallback: string,
): string {
  const wanted = [
    ...uiLocales(request.uiLocales),
    ...acceptedLanguages(request.acceptLanguage ?? ''),
  ];
  for (const tag of wanted) {
    const found = match(tag, available);
    if (found) return found;
  }
  return fallback;
}
