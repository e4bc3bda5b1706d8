// A tiny XML writer for S3 response bodies. No DOM: parts are pushed into one array and joined once,
// so a 1000-entry listing costs a few thousand short strings and one join.

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

// Anything that needs work: markup characters, C0 controls (TAB/LF/CR included: a literal CR would be
// normalised to LF by every parser), U+FFFE/U+FFFF and surrogates (checked one by one below).
const NEEDS_ESCAPE = /[&<>"'\u0000-\u001f\ud800-\udfff\ufffe\uffff]/;

/**
 * Escapes text for element content or attribute values.
 *
 * Control characters: TAB, LF and CR are legal XML 1.0 and are written as &#x9; &#xA; &#xD; so they
 * survive parsing unchanged. The other C0 controls (and U+FFFE/U+FFFF) are not XML 1.0 characters at
 * all, not even as references; we write them as character references anyway (&#x1;), which is what
 * Amazon S3 does (seen in client bug reports, e.g. aws-sdk-php#169, riak_cs#1255). A strict parser then
 * fails exactly as it would against S3, and clients already know the cure: encoding-type=url, where
 * the caller percent-encodes first and this function sees only ASCII. We never drop or replace such a
 * character: that would list a key that does not exist.
 * Lone UTF-16 surrogates cannot be written in UTF-8 at all; they become U+FFFD (keys decoded by our
 * strict router can never contain one).
 */
export function escapeXml(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string;
    if (c >= 0x20 && c < 0xd800 && c !== 0x26 && c !== 0x3c && c !== 0x3e && c !== 0x22 && c !== 0x27) continue;
    if (c === 0x26) rep = '&amp;';
    else if (c === 0x3c) rep = '&lt;';
    else if (c === 0x3e) rep = '&gt;';
    else if (c === 0x22) rep = '&quot;';
    else if (c === 0x27) rep = '&apos;';
    else if (c < 0x20) rep = '&#x' + c.toString(16).toUpperCase() + ';';
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid pair: copy both units as they are
        continue;
      }
      rep = '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) rep = '\ufffd';
    else if (c === 0xfffe || c === 0xffff) rep = '&#x' + c.toString(16).toUpperCase() + ';';
    else continue;
    out += s.slice(from, i) + rep;
    from = i + 1;
  }
  return out + s.slice(from);
}

/**
 * Builds one XML document. Element names are trusted constants from our own code; only text is
 * escaped. Elements must be closed in order; the writer keeps the stack so end() needs no name.
 */
export class XmlWriter {
  private readonly parts: string[] = [XML_DECL];
  private readonly open: string[] = [];

  /** Opens the root element with the S3 namespace, or any element when xmlns is undefined. */
  start(name: string, xmlns?: string): this {
    this.parts.push(xmlns === undefined ? '<' + name + '>' : '<' + name + ' xmlns="' + escapeXml(xmlns) + '">');
    this.open.push(name);
    return this;
  }

  end(): this {
    const name = this.open.pop();
    if (name === undefined) throw new Error('XmlWriter.end() without an open element');
    this.parts.push('</' + name + '>');
    return this;
  }

  /** <name>text</name>; numbers and booleans are written as S3 does (decimal, true/false). */
  text(name: string, value: string | number | boolean): this {
    const v = typeof value === 'string' ? escapeXml(value) : String(value);
    this.parts.push('<' + name + '>' + v + '</' + name + '>');
    return this;
  }

  /** Like text(), but writes nothing when the value is undefined. */
  maybe(name: string, value: string | number | boolean | undefined): this {
    return value === undefined ? this : this.text(name, value);
  }

  /** Appends markup as is: the caller has escaped it (hot paths that build one element by hand). */
  raw(markup: string): this {
    this.parts.push(markup);
    return this;
  }

  toString(): string {
    if (this.open.length !== 0) throw new Error('XmlWriter: unclosed element <' + this.open[this.open.length - 1] + '>');
    return this.parts.join('');
  }
}
