/*
 * ruxue draw verifier for the browser: recomputes a published draw record
 * (algorithm `ruxue-draw-v1`, spec draw-v1.md) in the auditor's own browser
 * and reports whether the published result matches, or the first
 * difference.
 *
 * Written from the spec alone: plain ES2020, no dependencies, no build step.
 * SHA-256 of the named digests (announcement, commitments, seed, result,
 * record) goes through Web Crypto. The roster's Merkle tree needs two
 * hashes per applicant, and Web Crypto takes one asynchronous call per hash
 * (100,000 of them: about 1.6 s in headless Chromium), so those use the
 * SHA-256 below, which selfTest() checks against Web Crypto (and against
 * the spec's RFC 6962 test tree) before the first verification in a page.
 *
 * API (also on `window.RuxueVerify`):
 *   verifyRecord(textOrBytes) -> Promise<{ok, announcement_digest,
 *       result_digest, record_digest, difference?, error?, ...}>
 *       (bytes are decoded as strict UTF-8; a byte order mark is refused)
 *   computeInput(textOrBytes) -> Promise<{ok, result, result_digest, ...}>
 *   verifyAnnouncementSignature(jwsCompact, jwk, recordText?) -> Promise<{ok, supported, ...}>
 *   ed25519Supported() -> Promise<boolean>
 *   selfTest() -> Promise<true> (rejects on failure)
 *
 * Section numbers (§n) refer to draw-v1.md.
 */
(function (root) {
  'use strict';

  const VERSION = 'ruxue-draw-v1';
  const MAX_INT = 9007199254740991; // 2^53 - 1 (§1)
  const MAX_DEPTH = 32; // §1: the top object counts as one level
  const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/; // §1
  const HEX64_RE = /^[0-9a-f]{64}$/;

  // ---------------------------------------------------------------------
  // Errors

  /** A refused input: `path` names the member, `message` the fault. */
  class Invalid extends Error {
    constructor(path, message) {
      super(path ? path + ': ' + message : message);
      this.name = 'Invalid';
      this.path = path;
      this.detail = message;
    }
  }

  function fail(path, message) {
    throw new Invalid(path, message);
  }

  // ---------------------------------------------------------------------
  // Strict JSON parser (§1)
  //
  // Objects become Maps (so no key is special, e.g. "__proto__"), arrays
  // Arrays, integers Numbers (exact: |n| <= 2^53-1 is enforced), strings
  // Strings. Refused: anything that is not RFC 8259 JSON, a byte order
  // mark, a repeated key, a key outside printable ASCII, a number that is
  // not a plain integer (fraction, exponent, -0, too large), lone
  // surrogates, nesting deeper than 32.
  //
  // The parser also notices whether a value's text is already its CJSON
  // (no whitespace, no escapes, keys in ascending order); then the text
  // itself can be hashed and compared instead of re-serialising the value.
  //
  // A draw record's roster can hold a million entries, so in a document
  // (parseDocument) the top-level "roster" is read into flat arrays
  // (FlatRoster) rather than one Map per entry; entries of an unusual form
  // (escapes, unknown members, wrong types) go through the generic parser
  // and are converted, so both paths accept exactly the same texts.

  /** Growable Int32Array. */
  class IntBuf {
    constructor(cap) {
      this.a = new Int32Array(cap);
      this.len = 0;
    }
    push(v) {
      if (this.len === this.a.length) {
        const b = new Int32Array(this.a.length * 2);
        b.set(this.a);
        this.a = b;
      }
      this.a[this.len++] = v;
    }
    view() {
      return this.a.subarray(0, this.len);
    }
  }

  function fnv(h, c) {
    return Math.imul(h ^ c, 0x01000193);
  }

  /**
   * The open-addressing hash index both intern tables use: table[slot] is an
   * entry index (-1: empty), hashes[idx] that entry's hash; linear probing,
   * and the table doubles once it is more than half full.
   */
  class HashIndex {
    constructor() {
      this.hashes = [];
      this.table = new Int32Array(64).fill(-1);
    }
    /**
     * The entry with hash h for which this.same(idx, key, a, b) holds, or,
     * when there is none, ~p for the empty slot p where it belongs.
     */
    find(h, key, a, b) {
      const mask = this.table.length - 1;
      let p = h & mask;
      for (;;) {
        const idx = this.table[p];
        if (idx < 0) return ~p;
        if (this.hashes[idx] === h && this.same(idx, key, a, b)) return idx;
        p = (p + 1) & mask;
      }
    }
    /** Files the next entry (index hashes.length) with hash h at the empty slot p from find; its index. */
    insert(h, p) {
      const idx = this.hashes.length;
      this.hashes.push(h);
      this.table[p] = idx;
      if (this.hashes.length * 2 > this.table.length) {
        const t = new Int32Array(this.table.length * 2).fill(-1);
        const mask = t.length - 1;
        for (let k = 0; k < this.hashes.length; k++) {
          let q = this.hashes[k] & mask;
          while (t[q] >= 0) q = (q + 1) & mask;
          t[q] = k;
        }
        this.table = t;
      }
      return idx;
    }
  }

  /** Interned strings (school names seen in the roster), by hash of their characters. */
  class NameTable extends HashIndex {
    constructor() {
      super();
      this.names = [];
      this.stamp = []; // per name: the last roster entry whose priority used it
    }
    /** Whether name idx is text[a, b). */
    same(idx, text, a, b) {
      const s = this.names[idx];
      return s.length === b - a && text.startsWith(s, a);
    }
    /** Index of text[a, b). */
    lookupRange(text, a, b) {
      let h = 0x811c9dc5;
      for (let k = a; k < b; k++) h = fnv(h, text.charCodeAt(k));
      const r = this.find(h, text, a, b);
      return r >= 0 ? r : this.add(text.slice(a, b), h, ~r);
    }
    lookup(s) {
      return this.lookupRange(s, 0, s.length);
    }
    add(s, h, p) {
      this.names.push(s);
      this.stamp.push(-1);
      return this.insert(h, p);
    }
  }

  /** Interned priority lists (most rosters have a few dozen distinct ones). */
  class ClassTable extends HashIndex {
    constructor() {
      super();
      this.lists = [];
    }
    /** Whether list idx is list[0, len). */
    same(idx, list, len) {
      const x = this.lists[idx];
      let same = x.length === len;
      for (let k = 0; same && k < len; k++) same = x[k] === list[k];
      return same;
    }
    /** Index of the list list[0, len) (copied when new). */
    lookup(list, len) {
      let h = fnv(0x811c9dc5, len);
      for (let k = 0; k < len; k++) {
        const v = list[k];
        h = fnv(fnv(h, v | 0), (v / 4294967296) | 0);
      }
      const r = this.find(h, list, len);
      if (r >= 0) return r;
      this.lists.push(Array.prototype.slice.call(list, 0, len));
      return this.insert(h, ~r);
    }
  }

  /**
   * The roster as parsed (not yet validated): entry i has id ids[i],
   * family family[i] (or null), preference names
   * prefName[prefOff[i], prefOff[i+1]) and priority members
   * (prioName, prioClass)[prioOff[i], prioOff[i+1]) in text order.
   * leafStart[i] >= 0 when the entry's text [leafStart, leafEnd) is its CJSON.
   */
  class FlatRoster {
    constructor() {
      this.n = 0;
      this.ids = [];
      this.family = [];
      this.prefOff = new IntBuf(1024);
      this.prefName = new IntBuf(4096);
      this.prioOff = new IntBuf(1024);
      this.prioName = new IntBuf(4096);
      this.prioClass = new IntBuf(4096);
      this.leafStart = new IntBuf(1024);
      this.leafEnd = new IntBuf(1024);
      this.names = new NameTable();
      this.classes = new ClassTable();
      this.prefOff.push(0);
      this.prioOff.push(0);
      this.start = 0;
      this.end = 0;
      this.canonical = false;
    }

    finishEntry(id, family, leafStart, leafEnd) {
      this.ids.push(id);
      this.family.push(family);
      this.prefOff.push(this.prefName.len);
      this.prioOff.push(this.prioName.len);
      this.leafStart.push(leafStart);
      this.leafEnd.push(leafEnd);
      this.n++;
    }

    /** An entry parsed by the generic parser: check the member types, then flatten. */
    addGeneric(v, i, leafStart, leafEnd) {
      const path = 'roster[' + i + ']';
      needObject(v, path);
      const id = needString(needMember(v, 'id', path), path + '.id');
      const here = path + ' (id ' + id + ')';
      for (const k of v.keys()) {
        if (k !== 'id' && k !== 'prefs' && k !== 'priority' && k !== 'family') {
          fail(here, 'unexpected member ' + JSON.stringify(k) + ' (an entry has only id, prefs, priority and family)');
        }
      }
      const prefs = needList(needMember(v, 'prefs', here), here + '.prefs');
      prefs.forEach((p, q) => this.prefName.push(this.names.lookup(needString(p, here + '.prefs[' + q + ']'))));
      const priority = needObject(needMember(v, 'priority', here), here + '.priority');
      for (const [k, list] of priority) {
        if (!Array.isArray(list)) fail(here + '.priority.' + k, 'must be a list of integers, found ' + typeName(list));
        list.forEach((x, q) => {
          if (typeof x !== 'number') fail(here + '.priority.' + k + '[' + q + ']', 'must be an integer, found ' + show(x));
        });
        this.prioName.push(this.names.lookup(k));
        this.prioClass.push(this.classes.lookup(list, list.length));
      }
      const family = v.has('family') ? needString(v.get('family'), here + '.family') : null;
      this.finishEntry(id, family, leafStart, leafEnd);
    }
  }

  function makeParser(text) {
    const n = text.length;
    let pos = 0;
    let noncanon = 0; // count of places where the text is not CJSON
    const scratch = [];

    function where(at) {
      let line = 1;
      let col = 1;
      for (let k = 0; k < at && k < n; k++) {
        if (text.charCodeAt(k) === 10) {
          line++;
          col = 1;
        } else {
          col++;
        }
      }
      return 'line ' + line + ', column ' + col;
    }
    function bad(message, at) {
      throw new Invalid('json', message + ' (at ' + where(at === undefined ? pos : at) + ')');
    }
    function ws() {
      const from = pos;
      while (pos < n) {
        const c = text.charCodeAt(pos);
        if (c === 32 || c === 10 || c === 13 || c === 9) pos++;
        else break;
      }
      if (pos !== from) noncanon++;
    }
    function describeChar(c) {
      if (Number.isNaN(c)) return 'end of text';
      if (c === 0xfeff) return 'a byte order mark (U+FEFF)';
      if (c >= 0x21 && c <= 0x7e) return JSON.stringify(String.fromCharCode(c));
      return 'U+' + c.toString(16).toUpperCase().padStart(4, '0');
    }

    function value(depth) {
      ws();
      const c = text.charCodeAt(pos);
      if (c === 34) return string();
      if (c === 123) return object(depth + 1);
      if (c === 91) return array(depth + 1);
      if (c === 45 || (c >= 48 && c <= 57)) return number();
      if (c === 116) return literal('true', true);
      if (c === 102) return literal('false', false);
      if (c === 110) return literal('null', null);
      if (c === 43) bad('a number must not start with "+"');
      if (c === 46) bad('not a plain integer: a number must not start with "."');
      return bad('expected a JSON value, found ' + describeChar(c));
    }

    function literal(word, v) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return v;
      }
      return bad('invalid literal');
    }

    function memberName(m) {
      ws();
      const at = pos;
      if (text.charCodeAt(pos) !== 34) bad('expected a member name in double quotes, found ' + describeChar(text.charCodeAt(pos)));
      const k = string();
      for (let q = 0; q < k.length; q++) {
        const c = k.charCodeAt(q);
        if (c < 0x20 || c > 0x7e) bad('member name ' + JSON.stringify(k) + ' is not printable ASCII (U+0020-U+007E)', at);
      }
      if (m.has(k)) bad('repeated member name ' + JSON.stringify(k) + ' (an object never repeats a key)', at);
      ws();
      if (text.charCodeAt(pos) !== 58) bad('expected ":" after member name, found ' + describeChar(text.charCodeAt(pos)));
      pos++;
      return k;
    }

    // After a member or element, past white space: 1 past a ",", 0 past the
    // closing `close` ("]" 93 or "}" 125), -1 (at what is there instead) otherwise.
    function separator(close) {
      ws();
      const c = text.charCodeAt(pos);
      if (c === 44) {
        pos++;
        return 1;
      }
      if (c === close) {
        pos++;
        return 0;
      }
      return -1;
    }

    // After a member: true if another follows, false at the closing "}".
    function afterMember() {
      const sep = separator(125);
      if (sep < 0) bad('expected "," or "}" in object, found ' + describeChar(text.charCodeAt(pos)));
      return sep > 0;
    }

    function object(depth) {
      if (depth > MAX_DEPTH) bad('objects and arrays nest deeper than ' + MAX_DEPTH + ' levels');
      pos++; // {
      const m = new Map();
      ws();
      if (text.charCodeAt(pos) === 125) {
        pos++;
        return m;
      }
      let prev = null;
      do {
        const k = memberName(m);
        if (prev !== null && !(k > prev)) noncanon++;
        prev = k;
        m.set(k, value(depth));
      } while (afterMember());
      return m;
    }

    function array(depth) {
      if (depth > MAX_DEPTH) bad('objects and arrays nest deeper than ' + MAX_DEPTH + ' levels');
      pos++; // [
      const a = [];
      ws();
      if (text.charCodeAt(pos) === 93) {
        pos++;
        return a;
      }
      for (;;) {
        a.push(value(depth));
        const sep = separator(93);
        if (sep === 0) return a;
        if (sep < 0) bad('expected "," or "]" in array, found ' + describeChar(text.charCodeAt(pos)));
      }
    }

    function number() {
      const start = pos;
      let neg = false;
      if (text.charCodeAt(pos) === 45) {
        neg = true;
        pos++;
      }
      let c = text.charCodeAt(pos);
      let v = 0;
      if (c === 48) {
        pos++;
        c = text.charCodeAt(pos);
        if (c >= 48 && c <= 57) bad('not a plain integer: leading zero', start);
      } else if (c >= 49 && c <= 57) {
        while (c >= 48 && c <= 57) {
          v = v * 10 + (c - 48);
          pos++;
          c = text.charCodeAt(pos);
        }
      } else {
        bad('invalid number', start);
      }
      if (c === 46 || c === 101 || c === 69) {
        // Find the whole token for the message.
        let end = pos;
        while (end < n && /[0-9.eE+-]/.test(text[end])) end++;
        bad('not a plain integer: ' + text.slice(start, end) + ' (integers only: no fraction, no exponent)', start);
      }
      const digits = pos - start - (neg ? 1 : 0);
      if (digits > 15) {
        // Beyond 15 digits the running product may round; reparse exactly.
        v = Number(text.slice(neg ? start + 1 : start, pos));
        if (digits > 16 || v > MAX_INT) bad('integer ' + text.slice(start, pos) + ' has a magnitude above 2^53-1', start);
      }
      if (neg) {
        if (v === 0) bad('not a plain integer: -0', start);
        v = -v;
      }
      return v;
    }

    function string() {
      pos++; // opening quote
      const start = pos;
      for (;;) {
        if (pos >= n) bad('unterminated string', start - 1);
        const c = text.charCodeAt(pos);
        if (c === 34) {
          const s = text.slice(start, pos);
          pos++;
          return s;
        }
        if (c === 92) return stringSlow(start);
        if (c < 0x20) bad('control character ' + describeChar(c) + ' in a string must be escaped');
        if (c >= 0xd800 && c <= 0xdfff) surrogatePair();
        else pos++;
      }
    }

    // A raw surrogate must be a high one followed by a low one.
    function surrogatePair() {
      const c = text.charCodeAt(pos);
      const d = text.charCodeAt(pos + 1);
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) pos += 2;
      else bad('lone surrogate ' + describeChar(c) + ' (not Unicode text)');
    }

    function hex4() {
      const h = text.slice(pos, pos + 4);
      if (!/^[0-9A-Fa-f]{4}$/.test(h)) bad('invalid \\u escape');
      pos += 4;
      return parseInt(h, 16);
    }

    function stringSlow(start) {
      noncanon++; // an escape: CJSON may write this string differently
      const parts = [text.slice(start, pos)];
      for (;;) {
        if (pos >= n) bad('unterminated string', start - 1);
        const c = text.charCodeAt(pos);
        if (c === 34) {
          pos++;
          return parts.join('');
        }
        if (c === 92) {
          const e = text.charCodeAt(pos + 1);
          pos += 2;
          switch (e) {
            case 34: parts.push('"'); break;
            case 92: parts.push('\\'); break;
            case 47: parts.push('/'); break;
            case 98: parts.push('\b'); break;
            case 102: parts.push('\f'); break;
            case 110: parts.push('\n'); break;
            case 114: parts.push('\r'); break;
            case 116: parts.push('\t'); break;
            case 117: {
              const u = hex4();
              if (u >= 0xd800 && u <= 0xdbff) {
                if (text.charCodeAt(pos) !== 92 || text.charCodeAt(pos + 1) !== 117) bad('lone surrogate \\u' + u.toString(16) + ' (not Unicode text)');
                pos += 2;
                const l = hex4();
                if (l < 0xdc00 || l > 0xdfff) bad('lone surrogate \\u' + u.toString(16) + ' (not Unicode text)');
                parts.push(String.fromCharCode(u, l));
              } else if (u >= 0xdc00 && u <= 0xdfff) {
                bad('lone surrogate \\u' + u.toString(16) + ' (not Unicode text)');
              } else {
                parts.push(String.fromCharCode(u));
              }
              break;
            }
            default:
              bad('invalid escape in string', pos - 2);
          }
          continue;
        }
        if (c < 0x20) bad('control character ' + describeChar(c) + ' in a string must be escaped');
        const from = pos;
        if (c >= 0xd800 && c <= 0xdfff) surrogatePair();
        else pos++;
        // Copy the run of ordinary characters in one slice.
        while (pos < n) {
          const d = text.charCodeAt(pos);
          if (d === 34 || d === 92 || d < 0x20) break;
          if (d >= 0xd800 && d <= 0xdfff) surrogatePair();
          else pos++;
        }
        parts.push(text.slice(from, pos));
      }
    }

    // --- Fast path for roster entries -----------------------------------

    // End of a plain string starting at a (after its quote), or -1 if it has
    // an escape, a control character or a surrogate (the generic parser
    // then decides). Member names must also be printable ASCII.
    function plainEnd(a, isKey) {
      for (let k = a; k < n; k++) {
        const c = text.charCodeAt(k);
        if (c === 34) return k;
        if (c === 92 || c < 0x20 || (c >= 0xd800 && c <= 0xdfff) || (isKey && c > 0x7e)) return -1;
      }
      return -1;
    }

    // Entry i of the roster, of the usual form; false (with nothing
    // consumed or recorded) when the generic parser must take it.
    function entryFast(R, i) {
      const start = pos;
      const nc0 = noncanon;
      const pn0 = R.prefName.len;
      const pr0 = R.prioName.len;
      const names = R.names;
      let id = null;
      let family = null;
      let seen = 0;
      let prevRank = -1;
      const bail = () => {
        pos = start;
        noncanon = nc0;
        R.prefName.len = pn0;
        R.prioName.len = pr0;
        R.prioClass.len = pr0;
        return false;
      };
      pos++; // {
      for (;;) {
        ws();
        if (text.charCodeAt(pos) !== 34) return bail();
        const ks = pos + 1;
        const ke = plainEnd(ks, true);
        if (ke < 0) return bail();
        const klen = ke - ks;
        let rank; // position of the member in CJSON order
        if (klen === 2 && text.startsWith('id', ks)) rank = 1;
        else if (klen === 5 && text.startsWith('prefs', ks)) rank = 2;
        else if (klen === 8 && text.startsWith('priority', ks)) rank = 3;
        else if (klen === 6 && text.startsWith('family', ks)) rank = 0;
        else return bail();
        if (seen & (1 << rank)) return bail();
        seen |= 1 << rank;
        if (rank < prevRank) noncanon++;
        prevRank = rank;
        pos = ke + 1;
        ws();
        if (text.charCodeAt(pos) !== 58) return bail();
        pos++;
        ws();
        if (rank <= 1) {
          if (text.charCodeAt(pos) !== 34) return bail();
          const e = plainEnd(pos + 1, false);
          if (e < 0) return bail();
          const s = text.slice(pos + 1, e);
          pos = e + 1;
          if (rank === 1) id = s;
          else family = s;
        } else if (rank === 2) {
          if (text.charCodeAt(pos) !== 91) return bail();
          pos++;
          ws();
          if (text.charCodeAt(pos) === 93) return bail();
          for (;;) {
            ws();
            if (text.charCodeAt(pos) !== 34) return bail();
            const e = plainEnd(pos + 1, false);
            if (e < 0) return bail();
            R.prefName.push(names.lookupRange(text, pos + 1, e));
            pos = e + 1;
            const sep = separator(93);
            if (sep < 0) return bail();
            if (sep === 0) break;
          }
        } else {
          if (text.charCodeAt(pos) !== 123) return bail();
          pos++;
          ws();
          if (text.charCodeAt(pos) === 125) pos++;
          else {
            let prevName = null;
            for (;;) {
              ws();
              if (text.charCodeAt(pos) !== 34) return bail();
              const e = plainEnd(pos + 1, true);
              if (e < 0) return bail();
              const nm = names.lookupRange(text, pos + 1, e);
              if (names.stamp[nm] === i) return bail(); // repeated: the generic parser says so
              names.stamp[nm] = i;
              if (prevName !== null && !(names.names[nm] > prevName)) noncanon++;
              prevName = names.names[nm];
              pos = e + 1;
              ws();
              if (text.charCodeAt(pos) !== 58) return bail();
              pos++;
              ws();
              if (text.charCodeAt(pos) !== 91) return bail();
              pos++;
              ws();
              let len = 0;
              if (text.charCodeAt(pos) === 93) pos++;
              else {
                for (;;) {
                  ws();
                  const c = text.charCodeAt(pos);
                  if (c !== 45 && !(c >= 48 && c <= 57)) return bail();
                  scratch[len++] = number();
                  const sep = separator(93);
                  if (sep < 0) return bail();
                  if (sep === 0) break;
                }
              }
              R.prioName.push(nm);
              R.prioClass.push(R.classes.lookup(scratch, len));
              const sep = separator(125);
              if (sep < 0) return bail();
              if (sep === 0) break;
            }
          }
        }
        const sep = separator(125);
        if (sep < 0) return bail();
        if (sep === 0) break;
      }
      if ((seen & 0b1110) !== 0b1110) return bail(); // id, prefs and priority are required
      R.finishEntry(id, family, noncanon === nc0 ? start : -1, pos);
      return true;
    }

    function roster() {
      const R = new FlatRoster();
      R.start = pos;
      const nc0 = noncanon;
      pos++; // [
      ws();
      if (text.charCodeAt(pos) === 93) pos++;
      else {
        for (let i = 0; ; i++) {
          ws();
          if (text.charCodeAt(pos) !== 123 || !entryFast(R, i)) {
            const s0 = pos;
            const nc = noncanon;
            const v = value(2);
            R.addGeneric(v, i, noncanon === nc ? s0 : -1, pos);
          }
          const sep = separator(93);
          if (sep < 0) bad('expected "," or "]" in array, found ' + describeChar(text.charCodeAt(pos)));
          if (sep === 0) break;
        }
      }
      R.end = pos;
      R.canonical = noncanon === nc0;
      return R;
    }

    // --- Recognising CJSON without building values ------------------------

    // True when the value at pos is valid JSON that is already its own CJSON
    // (then pos is after it); false as soon as anything is unusual (pos is
    // then meaningless and the caller parses the value normally, which
    // refuses or accepts it).
    function skim(depth) {
      const c = text.charCodeAt(pos);
      if (c === 34) {
        const e = plainEnd(pos + 1, false);
        if (e < 0) return false;
        pos = e + 1;
        return true;
      }
      if (c === 45 || (c >= 48 && c <= 57)) {
        number();
        return true;
      }
      if (c === 123 || c === 91) {
        if (depth + 1 > MAX_DEPTH) return false;
        pos++;
        const close = c === 123 ? 125 : 93;
        if (text.charCodeAt(pos) === close) {
          pos++;
          return true;
        }
        let ps = -1;
        let pe = -1;
        for (;;) {
          if (c === 123) {
            if (text.charCodeAt(pos) !== 34) return false;
            const ks = pos + 1;
            const ke = plainEnd(ks, true);
            if (ke < 0) return false;
            if (ps >= 0 && !rangeGreater(ks, ke, ps, pe)) return false;
            ps = ks;
            pe = ke;
            pos = ke + 1;
            if (text.charCodeAt(pos) !== 58) return false;
            pos++;
          }
          if (!skim(depth + 1)) return false;
          const d = text.charCodeAt(pos);
          if (d === 44) pos++;
          else if (d === close) {
            pos++;
            return true;
          } else return false;
        }
      }
      for (const [word, first] of [['true', 116], ['false', 102], ['null', 110]]) {
        if (c === first && text.startsWith(word, pos)) {
          pos += word.length;
          return true;
        }
      }
      return false;
    }

    // text[a, b) > text[c, d) by UTF-16 code units (here printable ASCII).
    function rangeGreater(a, b, c, d) {
      const len = Math.min(b - a, d - c);
      for (let k = 0; k < len; k++) {
        const x = text.charCodeAt(a + k);
        const y = text.charCodeAt(c + k);
        if (x !== y) return x > y;
      }
      return b - a > d - c;
    }

    // --- Documents ------------------------------------------------------

    function start() {
      if (n > 0 && text.charCodeAt(0) === 0xfeff) bad('a byte order mark (U+FEFF) before the JSON text is not allowed', 0);
      ws();
      if (text.charCodeAt(pos) !== 123) bad('the document must be a JSON object, found ' + describeChar(text.charCodeAt(pos)));
    }
    function end() {
      ws();
      if (pos < n) bad('unexpected ' + describeChar(text.charCodeAt(pos)) + ' after the end of the JSON object');
    }

    /** Any JSON object. */
    function parseObject() {
      start();
      const v = value(0);
      end();
      return v;
    }

    /**
     * A draw input or record: the top-level object, with "roster" (when a
     * list) as a FlatRoster, and for every top-level member its text span
     * and whether that text is its CJSON.
     */
    function parseDocument() {
      start();
      pos++; // {
      const doc = new Map();
      const spans = new Map();
      ws();
      if (text.charCodeAt(pos) === 125) pos++;
      else {
        do {
          const k = memberName(doc);
          ws();
          const s0 = pos;
          const nc = noncanon;
          let v;
          if (k === 'roster' && text.charCodeAt(pos) === 91) v = roster();
          else if (k === 'result' && skim(1)) {
            // Kept as text: it is only parsed if it differs from the recomputation.
            spans.set(k, { start: s0, end: pos, canonical: true });
            doc.set(k, new LazyValue(text, s0, pos));
            continue;
          } else {
            pos = s0;
            v = value(1);
          }
          spans.set(k, { start: s0, end: pos, canonical: noncanon === nc });
          doc.set(k, v);
        } while (afterMember());
      }
      end();
      return { doc, spans };
    }

    /** Any JSON value at depth `depth` (for re-parsing a part of a document). */
    function parseValue(depth) {
      const v = value(depth);
      ws();
      if (pos < n) bad('unexpected ' + describeChar(text.charCodeAt(pos)) + ' after the value');
      return v;
    }

    return { parseObject, parseDocument, parseValue };
  }

  /** A member kept as its (valid, canonical) text until its value is needed. */
  class LazyValue {
    constructor(text, start, end) {
      this.text = text;
      this.start = start;
      this.end = end;
    }
    get() {
      return makeParser(this.text.slice(this.start, this.end)).parseValue(1);
    }
  }

  /** Parse a JSON object strictly (§1) into Map-based values. */
  function parseStrict(text) {
    return makeParser(text).parseObject();
  }

  // ---------------------------------------------------------------------
  // Canonical JSON (§1)

  const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

  function cjsonString(s) {
    if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
    let out = '"';
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c === 34) out += '\\"';
      else if (c === 92) out += '\\\\';
      else if (c < 0x20) {
        if (c === 8) out += '\\b';
        else if (c === 12) out += '\\f';
        else if (c === 10) out += '\\n';
        else if (c === 13) out += '\\r';
        else if (c === 9) out += '\\t';
        else out += '\\u00' + (c < 16 ? '0' : '') + c.toString(16);
      } else out += s[k];
    }
    return out + '"';
  }

  // Keys are printable ASCII (enforced by the parser), so sorting by UTF-16
  // code units (the default sort) is byte order.
  function sortedKeys(m) {
    return Array.from(m.keys()).sort();
  }

  function cjson(v) {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        if (!Number.isSafeInteger(v) || Object.is(v, -0)) throw new Error('internal: not a CJSON integer');
        return String(v);
      case 'string':
        return cjsonString(v);
      default:
    }
    if (Array.isArray(v)) {
      let out = '[';
      for (let k = 0; k < v.length; k++) {
        if (k > 0) out += ',';
        out += cjson(v[k]);
      }
      return out + ']';
    }
    if (v instanceof Map) {
      const keys = sortedKeys(v);
      let out = '{';
      for (let k = 0; k < keys.length; k++) {
        if (k > 0) out += ',';
        out += cjsonString(keys[k]) + ':' + cjson(v.get(keys[k]));
      }
      return out + '}';
    }
    throw new Error('internal: not a JSON value');
  }

  /** Plain JS objects/arrays/strings/integers -> Map-based values (for CJSON). */
  function fromPlain(x) {
    if (Array.isArray(x)) return x.map(fromPlain);
    if (x !== null && typeof x === 'object') {
      const m = new Map();
      for (const k of Object.keys(x)) m.set(k, fromPlain(x[k]));
      return m;
    }
    return x;
  }

  /** Map-based values -> plain JS values (objects with a null prototype). */
  function toPlain(v) {
    if (Array.isArray(v)) return v.map(toPlain);
    if (v instanceof Map) {
      const o = Object.create(null);
      for (const [k, x] of v) o[k] = toPlain(x);
      return o;
    }
    return v;
  }

  // ---------------------------------------------------------------------
  // SHA-256

  const encoder = new TextEncoder();

  function toHex(bytes) {
    let s = '';
    for (let k = 0; k < bytes.length; k++) s += (bytes[k] < 16 ? '0' : '') + bytes[k].toString(16);
    return s;
  }

  function subtle() {
    const c = root.crypto;
    if (!c || !c.subtle) {
      throw new Error('Web Crypto (crypto.subtle) is not available: open this page over https or from localhost');
    }
    return c.subtle;
  }

  function concatBytes(parts) {
    const out = new Uint8Array(parts.reduce((t, p) => t + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Lower-case hex SHA-256 (Web Crypto) of a string's UTF-8 bytes, or of bytes. */
  async function sha256Hex(data) {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    return toHex(new Uint8Array(await subtle().digest('SHA-256', bytes)));
  }

  // FIPS 180-4 SHA-256, used for the many small hashes of the Merkle tree.
  const K256 = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const W256 = new Int32Array(64);
  const H256 = new Int32Array(8);
  let shaBuf = new Uint8Array(4096);

  function compress(b, off) {
    const w = W256;
    for (let t = 0; t < 16; t++) {
      const q = off + 4 * t;
      w[t] = (b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    let a = H256[0], bb = H256[1], c = H256[2], d = H256[3];
    let e = H256[4], f = H256[5], g = H256[6], h = H256[7];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K256[t] + w[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & bb) ^ (a & c) ^ (bb & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = bb;
      bb = a;
      a = (t1 + t2) | 0;
    }
    H256[0] = (H256[0] + a) | 0;
    H256[1] = (H256[1] + bb) | 0;
    H256[2] = (H256[2] + c) | 0;
    H256[3] = (H256[3] + d) | 0;
    H256[4] = (H256[4] + e) | 0;
    H256[5] = (H256[5] + f) | 0;
    H256[6] = (H256[6] + g) | 0;
    H256[7] = (H256[7] + h) | 0;
  }

  /**
   * SHA-256 of `prefix` (one byte) followed by `src[off, off+len)` (and,
   * when `src2` is given, `src2[off2, off2+len2)`), written to
   * `out[outOff, outOff+32)`.
   */
  function sha256Into(prefix, src, off, len, src2, off2, len2, out, outOff) {
    const total = 1 + len + len2;
    const padded = (total + 9 + 63) & ~63;
    if (shaBuf.length < padded) shaBuf = new Uint8Array(padded * 2);
    const b = shaBuf;
    b[0] = prefix;
    for (let k = 0; k < len; k++) b[1 + k] = src[off + k];
    for (let k = 0; k < len2; k++) b[1 + len + k] = src2[off2 + k];
    b[total] = 0x80;
    b.fill(0, total + 1, padded);
    const bits = total * 8;
    b[padded - 5] = Math.floor(bits / 0x100000000) & 0xff;
    b[padded - 4] = (bits >>> 24) & 0xff;
    b[padded - 3] = (bits >>> 16) & 0xff;
    b[padded - 2] = (bits >>> 8) & 0xff;
    b[padded - 1] = bits & 0xff;
    H256[0] = 0x6a09e667; H256[1] = 0xbb67ae85 | 0; H256[2] = 0x3c6ef372; H256[3] = 0xa54ff53a | 0;
    H256[4] = 0x510e527f; H256[5] = 0x9b05688c | 0; H256[6] = 0x1f83d9ab; H256[7] = 0x5be0cd19;
    for (let q = 0; q < padded; q += 64) compress(b, q);
    for (let t = 0; t < 8; t++) {
      const x = H256[t];
      out[outOff + 4 * t] = x >>> 24;
      out[outOff + 4 * t + 1] = (x >>> 16) & 0xff;
      out[outOff + 4 * t + 2] = (x >>> 8) & 0xff;
      out[outOff + 4 * t + 3] = x & 0xff;
    }
  }

  // ---------------------------------------------------------------------
  // RFC 6962 Merkle Tree Hash (§3)

  /**
   * Root of the leaves `bytes[starts[i], starts[i] + lens[i])`, i < count.
   * Follows the spec's recursive definition literally.
   */
  function merkleRoot(bytes, starts, lens, count) {
    // Leaf hashes first, then internal nodes, in one pool.
    const pool = new Uint8Array(32 * (2 * count));
    for (let i = 0; i < count; i++) sha256Into(0x00, bytes, starts[i], lens[i], null, 0, 0, pool, 32 * i);
    let next = count;
    function mth(lo, size) {
      if (size === 1) return lo;
      let k = 1;
      while (k * 2 < size) k *= 2; // largest power of two smaller than size
      const left = mth(lo, k);
      const right = mth(lo + k, size - k);
      const at = next++;
      sha256Into(0x01, pool, 32 * left, 32, pool, 32 * right, 32, pool, 32 * at);
      return at;
    }
    const r = mth(0, count);
    return toHex(pool.subarray(32 * r, 32 * r + 32));
  }

  // ---------------------------------------------------------------------
  // ChaCha20 keystream (RFC 8439 block function) and uniform(m) (§5)

  class ChaChaStream {
    constructor(seed /* Uint8Array(32) */) {
      const s = new Uint32Array(16);
      s[0] = 0x61707865; s[1] = 0x3320646e; s[2] = 0x79622d32; s[3] = 0x6b206574;
      for (let k = 0; k < 8; k++) {
        s[4 + k] = seed[4 * k] | (seed[4 * k + 1] << 8) | (seed[4 * k + 2] << 16) | (seed[4 * k + 3] << 24);
      }
      // s[12] block counter from 0; s[13..15] the all-zero nonce.
      this.state = s;
      this.x = new Uint32Array(16);
      this.block = new Uint32Array(16);
      this.word = 16; // index of the next unread 32-bit word of `block`
      this.exhausted = false;
      this.hi = 0;
      this.lo = 0;
    }

    refill() {
      const s = this.state;
      // 2^32 blocks (256 GiB of keystream) are far beyond any draw.
      if (this.exhausted) throw new Error('ChaCha20 block counter exhausted');
      const x = this.x;
      x.set(s);
      for (let r = 0; r < 10; r++) {
        qr(x, 0, 4, 8, 12); qr(x, 1, 5, 9, 13); qr(x, 2, 6, 10, 14); qr(x, 3, 7, 11, 15);
        qr(x, 0, 5, 10, 15); qr(x, 1, 6, 11, 12); qr(x, 2, 7, 8, 13); qr(x, 3, 4, 9, 14);
      }
      const out = this.block;
      for (let k = 0; k < 16; k++) out[k] = (x[k] + s[k]) >>> 0;
      s[12] = s[12] + 1;
      if (s[12] === 0) this.exhausted = true;
      this.word = 0;
    }

    /** Next R_k as two 32-bit halves in this.hi / this.lo. */
    next() {
      if (this.word >= 16) this.refill();
      // R_k is little-endian over 8 bytes: the first word is the low half.
      this.lo = this.block[this.word];
      this.hi = this.block[this.word + 1];
      this.word += 2;
    }

    /** §5 uniform(m), m >= 2. */
    uniform(m) {
      for (;;) {
        this.next();
        const r = uniformTry(this.hi, this.lo, m);
        if (r >= 0) return r;
      }
    }
  }

  /**
   * One try of §5 uniform(m) on R = hi * 2^32 + lo: R mod m, or -1 when R
   * is rejected (R >= 2^64 - (2^64 mod m)).
   */
  function uniformTry(hi, lo, m) {
    if (m <= 0x4000000) {
      // m <= 2^26: every product below stays under 2^53 (exact).
      const t32 = 0x100000000 % m; // 2^32 mod m
      // t64 = 2^64 mod m < m <= 2^26 < 2^32, so a rejected R has
      // hi = 2^32-1 and lo >= 2^32 - t64.
      if (hi === 0xffffffff) {
        const t64 = (t32 * t32) % m;
        if (t64 !== 0 && lo >= 0x100000000 - t64) return -1;
      }
      return ((hi % m) * t32 + lo) % m;
    }
    return uniformTryBig(hi, lo, m);
  }

  function uniformTryBig(hi, lo, m) {
    const M = BigInt(m);
    const r = (BigInt(hi) << 32n) | BigInt(lo);
    if (r >= (1n << 64n) - ((1n << 64n) % M)) return -1;
    return Number(r % M);
  }

  function qr(x, a, b, c, d) {
    let t;
    x[a] += x[b]; t = x[d] ^ x[a]; x[d] = (t << 16) | (t >>> 16);
    x[c] += x[d]; t = x[b] ^ x[c]; x[b] = (t << 12) | (t >>> 20);
    x[a] += x[b]; t = x[d] ^ x[a]; x[d] = (t << 8) | (t >>> 24);
    x[c] += x[d]; t = x[b] ^ x[c]; x[b] = (t << 7) | (t >>> 25);
  }

  // ---------------------------------------------------------------------
  // Validation of a draw input (§1-§3)

  function typeName(v) {
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'a list';
    if (v instanceof Map) return 'an object';
    if (typeof v === 'number') return 'an integer';
    if (typeof v === 'string') return 'a string';
    if (typeof v === 'boolean') return 'a boolean';
    return typeof v;
  }

  /** A value as CJSON, shortened for messages. */
  function show(v) {
    let s;
    try {
      s = cjson(v);
    } catch (e) {
      s = String(v);
    }
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
  }

  function needObject(v, path) {
    if (!(v instanceof Map)) fail(path, 'must be an object, found ' + typeName(v));
    return v;
  }
  function needList(v, path) {
    if (!Array.isArray(v)) fail(path, 'must be a list, found ' + typeName(v));
    return v;
  }
  function needString(v, path) {
    if (typeof v !== 'string') fail(path, 'must be a string, found ' + typeName(v));
    return v;
  }
  function needId(v, path) {
    needString(v, path);
    if (!ID_RE.test(v)) fail(path, JSON.stringify(v) + ' is not a valid identifier (^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$)');
    return v;
  }
  function needMember(obj, key, path) {
    if (!obj.has(key)) fail(path, 'missing member ' + JSON.stringify(key));
    return obj.get(key);
  }
  function onlyMembers(obj, allowed, path, what) {
    for (const k of obj.keys()) {
      if (!allowed.includes(k)) fail(path, 'unexpected member ' + JSON.stringify(k) + ' (' + what + ')');
    }
  }

  /**
   * Checks every rule of §2 on a parsed document and returns the draw in
   * flat arrays. `mode` is 'input' (exactly announcement, roster, sources)
   * or 'record' (the same plus result). The published result itself is
   * checked later, by comparison.
   */
  async function validate(text, doc, mode) {
    const top = mode === 'record' ? ['announcement', 'roster', 'sources', 'result'] : ['announcement', 'roster', 'sources'];
    for (const k of doc.keys()) {
      if (!top.includes(k)) {
        if (k === 'result') fail('input', 'unexpected member "result" (this is a record: verify it instead)');
        fail('input', 'unexpected member ' + JSON.stringify(k) + ' (a ' + mode + ' has only ' + top.join(', ') + ')');
      }
    }
    for (const k of ['announcement', 'roster', 'sources']) needMember(doc, k, 'input');

    // Announcement.
    const ann = needObject(doc.get('announcement'), 'announcement');
    for (const k of ['version', 'draw_id', 'schools', 'roster_root', 'roster_size', 'sources']) needMember(ann, k, 'announcement');
    const version = needString(ann.get('version'), 'announcement.version');
    if (version !== VERSION) fail('announcement.version', 'must be ' + JSON.stringify(VERSION) + ', found ' + JSON.stringify(version));
    const drawId = needId(ann.get('draw_id'), 'announcement.draw_id');
    const rootHex = needString(ann.get('roster_root'), 'announcement.roster_root');
    if (!HEX64_RE.test(rootHex)) fail('announcement.roster_root', 'must be 64 lower-case hex digits');
    const rosterSize = ann.get('roster_size');
    if (typeof rosterSize !== 'number' || rosterSize < 0) fail('announcement.roster_size', 'must be an integer >= 0, found ' + show(rosterSize));

    const schoolList = needList(ann.get('schools'), 'announcement.schools');
    if (schoolList.length === 0) fail('announcement.schools', 'must not be empty');
    const schoolIndex = new Map();
    const schools = [];
    schoolList.forEach((s, k) => {
      const path = 'announcement.schools[' + k + ']';
      needObject(s, path);
      onlyMembers(s, ['id', 'seats'], path, 'a school has only id and seats');
      const id = needId(needMember(s, 'id', path), path + '.id');
      const seats = needMember(s, 'seats', path + ' (id ' + id + ')');
      if (typeof seats !== 'number' || seats < 0) fail(path + ' (id ' + id + ').seats', 'must be an integer >= 0, found ' + show(seats));
      if (schoolIndex.has(id)) fail(path + '.id', 'duplicate school id ' + JSON.stringify(id));
      schoolIndex.set(id, schools.length);
      schools.push({ id, seats });
    });

    const annSources = needList(ann.get('sources'), 'announcement.sources');
    if (annSources.length === 0) fail('announcement.sources', 'must not be empty (a draw needs at least one source of randomness)');
    const announced = [];
    const sourceNames = new Set();
    annSources.forEach((s, k) => {
      const path = 'announcement.sources[' + k + ']';
      needObject(s, path);
      const name = needId(needMember(s, 'name', path), path + '.name');
      if (sourceNames.has(name)) fail(path + '.name', 'duplicate source name ' + JSON.stringify(name));
      sourceNames.add(name);
      let commitment = null;
      if (s.has('commitment')) {
        commitment = s.get('commitment');
        if (typeof commitment !== 'string' || !HEX64_RE.test(commitment)) {
          fail(path + ' (name ' + JSON.stringify(name) + ').commitment', 'must be 64 lower-case hex digits, found ' + show(commitment));
        }
      }
      announced.push({ name, commitment, drand: s.has('drand') ? s.get('drand') : undefined });
    });

    // Roster (§2) and its leaves (§3).
    const R = doc.get('roster');
    if (!(R instanceof FlatRoster)) needList(R, 'roster');
    const n = R.n;
    if (n === 0) fail('roster', 'must not be empty');
    const S = schools.length;
    const ids = R.ids;
    const family = R.family;
    const prefOff = R.prefOff.view();
    const prefName = R.prefName.view();
    const prioOff = R.prioOff.view();
    const prioName = R.prioName.view();
    const prioClass = R.prioClass.view();
    const names = R.names.names;
    const nameSchool = Int32Array.from(names, (nm) => (schoolIndex.has(nm) ? schoolIndex.get(nm) : -1));
    const slots = prefOff[n];
    const prefSchool = new Int32Array(slots);
    const prefClass = new Int32Array(slots);
    const stamp = new Int32Array(S).fill(-1); // entry that last listed a school
    const prioSeen = new Int32Array(S).fill(-1);
    const slotOf = new Int32Array(S);
    let hasFamily = false;
    let prev = null;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      if (!ID_RE.test(id)) fail('roster[' + i + '].id', JSON.stringify(id) + ' is not a valid identifier (^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$)');
      const here = 'roster[' + i + '] (id ' + id + ')';
      if (prev !== null) {
        if (id === prev) fail(here + '.id', 'duplicate id ' + JSON.stringify(id) + ' (also roster[' + (i - 1) + '])');
        if (id < prev) fail(here + '.id', 'roster is not sorted by id: ' + JSON.stringify(id) + ' comes after ' + JSON.stringify(prev));
      }
      prev = id;
      const a = prefOff[i];
      const b = prefOff[i + 1];
      if (a === b) fail(here + '.prefs', 'must not be empty');
      for (let q = a; q < b; q++) {
        const s = nameSchool[prefName[q]];
        if (s < 0) fail(here + '.prefs[' + (q - a) + ']', 'unknown school ' + JSON.stringify(names[prefName[q]]));
        if (stamp[s] === i) fail(here + '.prefs[' + (q - a) + ']', 'school ' + JSON.stringify(names[prefName[q]]) + ' listed twice');
        stamp[s] = i;
        slotOf[s] = q;
        prefSchool[q] = s;
      }
      for (let r = prioOff[i]; r < prioOff[i + 1]; r++) {
        const s = nameSchool[prioName[r]];
        if (s < 0 || stamp[s] !== i) fail(here + '.priority', 'member ' + JSON.stringify(names[prioName[r]]) + ' is not a school in this entry\'s prefs');
        prioSeen[s] = i;
        prefClass[slotOf[s]] = prioClass[r];
      }
      if (prioOff[i + 1] - prioOff[i] !== b - a) {
        // Member names are distinct and all in prefs, so one is missing.
        for (let q = a; q < b; q++) {
          if (prioSeen[prefSchool[q]] !== i) fail(here + '.priority', 'missing member ' + JSON.stringify(names[prefName[q]]) + ' (priority needs exactly one member per school in prefs)');
        }
      }
      if (family[i] !== null) hasFamily = true;
    }

    // Families: F names an entry that itself carries F.
    const unitOf = new Int32Array(n);
    let idIndex = null;
    if (hasFamily) {
      idIndex = new Map();
      for (let i = 0; i < n; i++) idIndex.set(ids[i], i);
    }
    for (let i = 0; i < n; i++) {
      const f = family[i];
      if (f === null) {
        unitOf[i] = i;
        continue;
      }
      const j = idIndex.get(f);
      const here = 'roster[' + i + '] (id ' + ids[i] + ').family';
      if (j === undefined) fail(here, JSON.stringify(f) + ' names no roster entry (a family must name one of its members)');
      if (family[j] !== f) {
        const theirs = family[j] === null ? 'no family' : 'family ' + JSON.stringify(family[j]);
        fail(here, JSON.stringify(f) + ' names roster[' + j + '], which has ' + theirs + '; the named member must carry the same family');
      }
      unitOf[i] = j;
    }

    if (rosterSize !== n) fail('announcement.roster_size', 'is ' + rosterSize + ' but the roster has ' + n + ' entries');
    // The roster's CJSON: the text itself when it already is CJSON, else
    // rebuilt entry by entry. Every leaf is ASCII (identifiers and
    // integers), so string offsets are byte offsets.
    const leafStart = R.leafStart.view();
    const leafEnd = R.leafEnd.view();
    const starts = new Int32Array(n);
    const lens = new Int32Array(n);
    let rosterText;
    if (R.canonical) {
      rosterText = text.slice(R.start, R.end);
      for (let i = 0; i < n; i++) {
        starts[i] = leafStart[i] - R.start;
        lens[i] = leafEnd[i] - leafStart[i];
      }
    } else {
      const leaves = new Array(n);
      let at = 1;
      for (let i = 0; i < n; i++) {
        const leaf = leafStart[i] >= 0 ? text.slice(leafStart[i], leafEnd[i]) : leafCjson(R, i, prefSchool, schools);
        leaves[i] = leaf;
        starts[i] = at;
        lens[i] = leaf.length;
        at += leaf.length + 1;
      }
      rosterText = '[' + leaves.join(',') + ']';
    }
    const rosterBytes = encoder.encode(rosterText);
    if (rosterBytes.length !== rosterText.length) throw new Error('internal: roster leaf is not ASCII');
    const rootGot = merkleRoot(rosterBytes, starts, lens, n);
    if (rootGot !== rootHex) fail('announcement.roster_root', 'is ' + rootHex + ' but the roster hashes to ' + rootGot);

    // Revealed sources, in the announced order, with their commitments.
    const srcList = needList(doc.get('sources'), 'sources');
    const sources = [];
    for (let k = 0; k < Math.max(srcList.length, announced.length); k++) {
      if (k >= srcList.length) fail('sources', 'missing source ' + JSON.stringify(announced[k].name) + ' (announcement.sources[' + k + '])');
      const s = srcList[k];
      const path = 'sources[' + k + ']';
      needObject(s, path);
      onlyMembers(s, ['name', 'value'], path, 'a source has only name and value');
      const name = needString(needMember(s, 'name', path), path + '.name');
      if (k >= announced.length) fail(path, 'source ' + JSON.stringify(name) + ' was not announced');
      if (name !== announced[k].name) {
        fail(path + '.name', 'is ' + JSON.stringify(name) + ' but announcement.sources[' + k + '] is ' + JSON.stringify(announced[k].name) + ' (same names, same order)');
      }
      const value = needString(needMember(s, 'value', path + ' (name ' + JSON.stringify(name) + ')'), path + ' (name ' + JSON.stringify(name) + ').value');
      sources.push({ name, value });
    }
    const sourceReport = [];
    for (let k = 0; k < sources.length; k++) {
      const { name, value } = sources[k];
      const c = announced[k].commitment;
      if (c !== null) {
        const got = await sha256Hex('{"name":' + cjsonString(name) + ',"value":' + cjsonString(value) + '}');
        if (got !== c) {
          fail('sources[' + k + '] (name ' + JSON.stringify(name) + ').value', 'does not match its commitment: hex(SHA-256(CJSON({name, value}))) is ' + got + ', announced ' + c);
        }
      }
      sourceReport.push({ name, commitment: c !== null ? 'matches' : 'none', drand: announced[k].drand !== undefined });
    }

    return {
      doc,
      ann,
      drawId,
      schools,
      schoolIndex,
      n,
      ids,
      unitOf,
      prefOff,
      prefSchool,
      prefClass,
      classLists: R.classes.lists,
      sources,
      sourceReport,
      rosterBytes,
      rosterRoot: rootGot,
    };
  }

  /** CJSON of validated roster entry i (whose text was not already CJSON). */
  function leafCjson(R, i, prefSchool, schools) {
    // Members in byte order: family, id, prefs, priority. Every string is an identifier.
    let out = '{';
    if (R.family[i] !== null) out += '"family":"' + R.family[i] + '",';
    out += '"id":"' + R.ids[i] + '","prefs":[';
    const a = R.prefOff.a[i];
    const b = R.prefOff.a[i + 1];
    for (let q = a; q < b; q++) out += (q > a ? ',"' : '"') + schools[prefSchool[q]].id + '"';
    out += '],"priority":{';
    const members = [];
    for (let r = R.prioOff.a[i]; r < R.prioOff.a[i + 1]; r++) {
      members.push([R.names.names[R.prioName.a[r]], R.classes.lists[R.prioClass.a[r]]]);
    }
    members.sort((x, y) => (x[0] < y[0] ? -1 : 1));
    out += members.map(([k, list]) => '"' + k + '":[' + list.join(',') + ']').join(',');
    return out + '}}';
  }

  // ---------------------------------------------------------------------
  // The draw (§4, §6-§8)

  function compareLists(a, b) {
    const k = Math.min(a.length, b.length);
    for (let q = 0; q < k; q++) {
      if (a[q] !== b[q]) return a[q] < b[q] ? -1 : 1;
    }
    return a.length - b.length; // a proper prefix sorts first
  }

  async function computeDraw(d) {
    const { n, schools, unitOf, prefOff, prefSchool, prefClass } = d;
    const S = schools.length;

    // §4 seed.
    const annCjson = cjson(d.ann);
    const announcementDigest = await sha256Hex(annCjson);
    let seedText = '{"announcement":"' + announcementDigest + '","sources":[';
    d.sources.forEach((s, k) => {
      seedText += (k > 0 ? ',' : '') + '{"name":' + cjsonString(s.name) + ',"value":' + cjsonString(s.value) + '}';
    });
    seedText += '],"version":"' + VERSION + '"}';
    const seed = new Uint8Array(await subtle().digest('SHA-256', encoder.encode(seedText)));

    // §6 lottery numbers: Fisher-Yates over the units in byte order.
    const units = [];
    for (let i = 0; i < n; i++) if (unitOf[i] === i) units.push(i);
    const m = units.length;
    const U = Int32Array.from(units);
    const rng = new ChaChaStream(seed);
    for (let i = m - 1; i >= 1; i--) {
      const j = rng.uniform(i + 1);
      const t = U[i];
      U[i] = U[j];
      U[j] = t;
    }
    const unitPos = new Int32Array(n);
    for (let p = 0; p < m; p++) unitPos[U[p]] = p;
    const lotteryNumber = new Int32Array(n);
    for (let i = 0; i < n; i++) lotteryNumber[i] = unitPos[unitOf[i]] + 1;
    // Lottery order: by (number, id); roster order is id order, so a stable
    // counting sort by number does it.
    const count = new Int32Array(m + 2);
    for (let i = 0; i < n; i++) count[lotteryNumber[i] + 1]++;
    for (let p = 1; p <= m + 1; p++) count[p] += count[p - 1];
    const lotteryOrder = new Int32Array(n);
    for (let i = 0; i < n; i++) lotteryOrder[count[lotteryNumber[i]]++] = i;
    const lotteryRank = new Int32Array(n);
    for (let r = 0; r < n; r++) lotteryRank[lotteryOrder[r]] = r;

    // §7 rankings: (priority, lottery number, id) = (priority class rank, lottery rank).
    const C = d.classLists.length;
    const byList = Array.from({ length: C }, (_, c) => c).sort((a, b) => compareLists(d.classLists[a], d.classLists[b]));
    const classRank = new Int32Array(C);
    for (let r = 0; r < C; r++) classRank[byList[r]] = r;
    const slots = prefOff[n];
    const owner = new Int32Array(slots);
    for (let i = 0; i < n; i++) for (let q = prefOff[i]; q < prefOff[i + 1]; q++) owner[q] = i;
    const rankOff = new Int32Array(S + 1);
    for (let q = 0; q < slots; q++) rankOff[prefSchool[q] + 1]++;
    for (let s = 0; s < S; s++) rankOff[s + 1] += rankOff[s];
    // Three stable passes instead of a comparison sort: slots in lottery
    // order, then a counting sort by priority class, then by school; each
    // school's slots end up ordered by (priority, lottery number, id).
    const byLottery = new Int32Array(slots);
    let k = 0;
    for (let r = 0; r < n; r++) {
      const i = lotteryOrder[r];
      for (let q = prefOff[i]; q < prefOff[i + 1]; q++) byLottery[k++] = q;
    }
    const classStart = new Int32Array(C + 1);
    for (let q = 0; q < slots; q++) classStart[classRank[prefClass[q]] + 1]++;
    for (let c = 0; c < C; c++) classStart[c + 1] += classStart[c];
    const byClass = new Int32Array(slots);
    for (let x = 0; x < slots; x++) {
      const q = byLottery[x];
      byClass[classStart[classRank[prefClass[q]]]++] = q;
    }
    const ranked = new Int32Array(slots); // per school, its slots in ranking order
    const fill = rankOff.slice(0, S);
    for (let x = 0; x < slots; x++) {
      const q = byClass[x];
      ranked[fill[prefSchool[q]]++] = q;
    }
    const rankOf = new Int32Array(slots); // slot -> rank within its school
    for (let s = 0; s < S; s++) for (let q = rankOff[s]; q < rankOff[s + 1]; q++) rankOf[ranked[q]] = q - rankOff[s];

    // Applicant-proposing deferred acceptance. Each school keeps a max-heap
    // of the ranks it holds, capped at min(seats, applicants listing it).
    const cap = new Int32Array(S);
    const heapOff = new Int32Array(S + 1);
    for (let s = 0; s < S; s++) {
      cap[s] = Math.min(schools[s].seats, rankOff[s + 1] - rankOff[s]);
      heapOff[s + 1] = heapOff[s] + cap[s];
    }
    const heap = new Int32Array(heapOff[S]);
    const held = new Int32Array(S);
    const nextSlot = prefOff.slice(0, n);
    const assigned = new Int32Array(n).fill(-1); // slot assigned, or -1
    const stack = new Int32Array(n);
    let sp = 0;
    for (let i = n - 1; i >= 0; i--) stack[sp++] = i;
    while (sp > 0) {
      const i = stack[--sp];
      const end = prefOff[i + 1];
      while (nextSlot[i] < end) {
        const slot = nextSlot[i]++;
        const s = prefSchool[slot];
        const c = cap[s];
        if (c === 0) continue;
        const r = rankOf[slot];
        const h0 = heapOff[s];
        if (held[s] < c) {
          // Sift up.
          let k = held[s]++;
          while (k > 0) {
            const parent = (k - 1) >> 1;
            if (heap[h0 + parent] >= r) break;
            heap[h0 + k] = heap[h0 + parent];
            k = parent;
          }
          heap[h0 + k] = r;
          assigned[i] = slot;
          break;
        }
        const worst = heap[h0];
        if (r >= worst) continue; // rejected; try the next preference
        const displaced = owner[ranked[rankOff[s] + worst]];
        assigned[displaced] = -1;
        stack[sp++] = displaced;
        // Replace the top and sift down.
        const size = held[s];
        let k = 0;
        for (;;) {
          let child = 2 * k + 1;
          if (child >= size) break;
          if (child + 1 < size && heap[h0 + child + 1] > heap[h0 + child]) child++;
          if (heap[h0 + child] <= r) break;
          heap[h0 + k] = heap[h0 + child];
          k = child;
        }
        heap[h0 + k] = r;
        assigned[i] = slot;
        break;
      }
    }

    // §8 result.
    const ids = d.ids;
    const lottery = new Array(n);
    for (let r = 0; r < n; r++) lottery[r] = ids[lotteryOrder[r]];
    const assignments = new Array(S);
    const waitlists = new Array(S);
    for (let s = 0; s < S; s++) {
      const adm = [];
      const wait = [];
      for (let q = rankOff[s]; q < rankOff[s + 1]; q++) {
        const slot = ranked[q];
        const i = owner[slot];
        const a = assigned[i];
        if (a === slot) adm.push(ids[i]);
        else if (a === -1 || slot < a) wait.push(ids[i]); // lists s before its assigned school
      }
      assignments[s] = adm;
      waitlists[s] = wait;
    }
    const unassigned = [];
    for (let r = 0; r < n; r++) if (assigned[lotteryOrder[r]] === -1) unassigned.push(lottery[r]);

    return {
      announcementDigest,
      seedHex: toHex(seed),
      lottery,
      lotteryNumber,
      assignments,
      waitlists,
      unassigned,
    };
  }

  function idList(list) {
    return list.length === 0 ? '[]' : '["' + list.join('","') + '"]';
  }

  /** CJSON of the result (§8). Every string in it is an identifier or hex. */
  function resultCjson(d, o) {
    const bySchoolId = d.schools.map((s, k) => k).sort((a, b) => (d.schools[a].id < d.schools[b].id ? -1 : 1));
    const perSchool = (lists) => '{' + bySchoolId.map((s) => '"' + d.schools[s].id + '":' + idList(lists[s])).join(',') + '}';
    const numbers = new Array(d.n);
    for (let i = 0; i < d.n; i++) numbers[i] = '"' + d.ids[i] + '":' + o.lotteryNumber[i];
    return (
      '{"announcement_digest":"' + o.announcementDigest +
      '","assignments":' + perSchool(o.assignments) +
      ',"draw_id":"' + d.drawId +
      '","lottery":' + idList(o.lottery) +
      ',"lottery_numbers":{' + numbers.join(',') +
      '},"seed":"' + o.seedHex +
      '","unassigned":' + idList(o.unassigned) +
      ',"version":"' + VERSION +
      '","waitlists":' + perSchool(o.waitlists) +
      '}'
    );
  }

  // ---------------------------------------------------------------------
  // Comparison of a published result with the recomputation (§8)

  const RESULT_MEMBERS = ['version', 'draw_id', 'announcement_digest', 'seed', 'lottery', 'lottery_numbers', 'assignments', 'unassigned', 'waitlists'];

  function difference(path, message, extra) {
    return Object.assign({ path, message }, extra || {});
  }

  function compareIds(path, found, expected, extra) {
    if (!Array.isArray(found)) return difference(path, 'must be a list, found ' + typeName(found), extra);
    const k = Math.min(found.length, expected.length);
    for (let q = 0; q < k; q++) {
      if (found[q] !== expected[q]) {
        return difference(path + '[' + q + ']', 'expected ' + JSON.stringify(expected[q]) + ', found ' + show(found[q]),
          Object.assign({ index: q, expected: expected[q], found: toPlain(found[q]), applicant: expected[q] }, extra || {}));
      }
    }
    if (found.length !== expected.length) {
      const q = k;
      const more = found.length > expected.length;
      return difference(path, 'expected ' + expected.length + ' ids, found ' + found.length +
        (more ? ' (first extra: ' + show(found[q]) + ')' : ' (first missing: ' + JSON.stringify(expected[q]) + ')'),
        Object.assign({ index: q, applicant: more ? toPlain(found[q]) : expected[q], expected_length: expected.length, found_length: found.length }, extra || {}));
    }
    return null;
  }

  function comparePerSchool(d, name, found, lists) {
    const path = 'result.' + name;
    if (!(found instanceof Map)) return difference(path, 'must be an object, found ' + typeName(found), { member: name });
    for (let s = 0; s < d.schools.length; s++) {
      const id = d.schools[s].id;
      if (!found.has(id)) return difference(path, 'missing member ' + JSON.stringify(id) + ' (every school needs one)', { member: name, school: id });
      const diff = compareIds(path + '.' + id, found.get(id), lists[s], { member: name, school: id });
      if (diff) return diff;
    }
    for (const k of found.keys()) {
      if (!d.schoolIndex.has(k)) return difference(path, 'unexpected member ' + JSON.stringify(k) + ' (not an announced school)', { member: name, school: k });
    }
    return null;
  }

  /** The first difference between the published result and the recomputed one, or null. */
  function compareResult(d, o, pub) {
    if (!(pub instanceof Map)) return difference('result', 'must be an object, found ' + typeName(pub), { member: 'result' });
    for (const k of pub.keys()) {
      if (!RESULT_MEMBERS.includes(k)) return difference('result', 'unexpected member ' + JSON.stringify(k), { member: k });
    }
    for (const k of RESULT_MEMBERS) {
      if (!pub.has(k)) return difference('result', 'missing member ' + JSON.stringify(k), { member: k });
    }
    const scalars = [['version', VERSION], ['draw_id', d.drawId], ['announcement_digest', o.announcementDigest], ['seed', o.seedHex]];
    for (const [k, want] of scalars) {
      const got = pub.get(k);
      if (got !== want) return difference('result.' + k, 'expected ' + JSON.stringify(want) + ', found ' + show(got), { member: k, expected: want, found: toPlain(got) });
    }
    let diff = compareIds('result.lottery', pub.get('lottery'), o.lottery, { member: 'lottery' });
    if (diff) return diff;

    const numbers = pub.get('lottery_numbers');
    if (!(numbers instanceof Map)) return difference('result.lottery_numbers', 'must be an object, found ' + typeName(numbers), { member: 'lottery_numbers' });
    for (let i = 0; i < d.n; i++) {
      const id = d.ids[i];
      if (!numbers.has(id)) return difference('result.lottery_numbers', 'missing member ' + JSON.stringify(id), { member: 'lottery_numbers', applicant: id });
      const got = numbers.get(id);
      const want = o.lotteryNumber[i];
      if (got !== want) {
        return difference('result.lottery_numbers.' + id, 'expected ' + want + ', found ' + show(got), { member: 'lottery_numbers', applicant: id, expected: want, found: toPlain(got) });
      }
    }
    if (numbers.size !== d.n) {
      const known = new Set(d.ids);
      for (const k of numbers.keys()) {
        if (!known.has(k)) return difference('result.lottery_numbers', 'unexpected member ' + JSON.stringify(k) + ' (not a roster id)', { member: 'lottery_numbers', applicant: k });
      }
    }
    diff = comparePerSchool(d, 'assignments', pub.get('assignments'), o.assignments);
    if (diff) return diff;
    diff = compareIds('result.unassigned', pub.get('unassigned'), o.unassigned, { member: 'unassigned' });
    if (diff) return diff;
    return comparePerSchool(d, 'waitlists', pub.get('waitlists'), o.waitlists);
  }

  // ---------------------------------------------------------------------
  // Entry points

  let selfTested = null;

  /**
   * Known-answer tests of the primitives: the spec's ChaCha20 word for the
   * zero seed, the spec's RFC 6962 test tree, and the hand-written SHA-256
   * against Web Crypto.
   */
  function selfTest() {
    if (!selfTested) {
      selfTested = (async () => {
        const z = new ChaChaStream(new Uint8Array(32));
        z.next();
        if (z.hi !== 0x903df1a0 || z.lo !== 0xade0b876) throw new Error('self-test failed: ChaCha20 R_0 of the zero seed');
        // The fast uniform() path against BigInt arithmetic, at the rejection boundary too.
        const words = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
        for (const m of [2, 3, 7, 10, 1000, 99991, 0x3ffffff, 0x4000000, 0x4000001, 0xffffffff, 2 ** 40 + 5]) {
          const t64 = Number((1n << 64n) % BigInt(m));
          const los = words.concat([0x100000000 - t64 - 1, 0x100000000 - t64, (0x100000000 - t64 + 1) % 0x100000000].filter((x) => x >= 0 && x <= 0xffffffff));
          for (const hi of words) {
            for (const lo of los) {
              if (uniformTry(hi, lo, m) !== uniformTryBig(hi, lo, m)) throw new Error('self-test failed: uniform(' + m + ') at ' + hi + ':' + lo);
            }
          }
        }
        const a = new ChaChaStream(new Uint8Array(32).fill(7));
        const b = new ChaChaStream(new Uint8Array(32).fill(7));
        for (let m = 2; m < 200; m++) {
          b.next();
          if (a.uniform(m) !== uniformTryBig(b.hi, b.lo, m)) throw new Error('self-test failed: uniform(' + m + ')');
        }
        const hex = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
        const leafBytes = hex.map((h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16)));
        const all = new Uint8Array(leafBytes.reduce((t, b) => t + b.length, 0));
        const starts = new Int32Array(8);
        const lens = new Int32Array(8);
        let at = 0;
        leafBytes.forEach((b, k) => {
          all.set(b, at);
          starts[k] = at;
          lens[k] = b.length;
          at += b.length;
        });
        if (merkleRoot(all, starts, lens, 8) !== '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328') {
          throw new Error('self-test failed: RFC 6962 test tree');
        }
        // Messages of every length around the block boundaries.
        const msg = new Uint8Array(300);
        for (let k = 0; k < msg.length; k++) msg[k] = (k * 131 + 7) & 0xff;
        const out = new Uint8Array(32);
        for (const len of [0, 1, 54, 55, 56, 62, 63, 64, 65, 118, 119, 120, 127, 128, 200, 299]) {
          sha256Into(msg[0], msg, 1, len, null, 0, 0, out, 0);
          const want = await sha256Hex(msg.subarray(0, len + 1));
          if (toHex(out) !== want) throw new Error('self-test failed: SHA-256 of ' + (len + 1) + ' bytes');
        }
        return true;
      })();
      selfTested.catch(() => {
        selfTested = null;
      });
    }
    return selfTested;
  }

  const fatalDecoder = typeof TextDecoder === 'function' ? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }) : null;

  /** Text from a string, or from UTF-8 bytes (refusing malformed UTF-8). */
  function asText(input) {
    if (typeof input === 'string') return input;
    if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
      try {
        // ignoreBOM keeps a byte order mark in the text, where the parser refuses it.
        return fatalDecoder.decode(input);
      } catch (e) {
        fail('json', 'the file is not valid UTF-8 text');
      }
    }
    throw new TypeError('expected the JSON text (a string) or its bytes');
  }

  function now() {
    return typeof performance !== 'undefined' ? performance.now() : Date.now();
  }

  function refused(e, t0) {
    if (e instanceof Invalid) {
      return { ok: false, invalid: true, error: e.message, error_path: e.path, error_detail: e.detail, elapsed_ms: now() - t0 };
    }
    return { ok: false, invalid: false, error: 'internal error: ' + (e && e.message ? e.message : String(e)), elapsed_ms: now() - t0 };
  }

  function notesFor(d) {
    const notes = [];
    for (const s of d.sourceReport) {
      if (s.commitment === 'none') {
        notes.push('source ' + s.name + ' has no commitment: check its value against the public beacon' +
          (s.drand ? ' (its drand signature is not checked by this browser verifier)' : '') + ' by hand');
      }
    }
    return notes;
  }

  function summary(d, o) {
    return d.schools.map((s, k) => ({ school: s.id, seats: s.seats, admitted: o.assignments[k].length, waitlist: o.waitlists[k].length }));
  }

  /**
   * Verify a draw record: validate the input part (§2), recompute the
   * result and compare it with the published one.
   */
  async function verifyRecord(input) {
    const t0 = now();
    try {
      const timings = {};
      let t = now();
      const lap = (name) => {
        const t1 = now();
        timings[name] = Math.round(t1 - t);
        t = t1;
      };
      await selfTest();
      lap('self_test');
      const text = asText(input);
      lap('decode');
      const { doc, spans } = makeParser(text).parseDocument();
      lap('parse');
      const d = await validate(text, doc, 'record');
      lap('validate');
      if (!doc.has('result')) fail('record', 'missing member "result" (this is a draw input, not a record)');
      const o = await computeDraw(d);
      lap('compute');
      const expected = resultCjson(d, o);
      let published = doc.get('result');
      const span = spans.get('result');
      const publishedCjson = span.canonical ? text.slice(span.start, span.end) : cjson(published);
      lap('serialise');
      // CJSON(record): members in byte order, assembled as bytes so that
      // the roster's bytes (already encoded for the Merkle tree) are reused.
      const expectedBytes = encoder.encode(expected);
      const publishedBytes = publishedCjson === expected ? expectedBytes : encoder.encode(publishedCjson);
      const recordBytes = concatBytes([
        encoder.encode('{"announcement":' + cjson(d.ann) + ',"result":'),
        publishedBytes,
        encoder.encode(',"roster":'),
        d.rosterBytes,
        encoder.encode(',"sources":' + cjson(doc.get('sources')) + '}'),
      ]);
      const [resultDigest, publishedDigest, recordDigest] = await Promise.all([
        sha256Hex(expectedBytes),
        publishedBytes === expectedBytes ? null : sha256Hex(publishedBytes),
        sha256Hex(recordBytes),
      ]);
      lap('digests');
      const out = {
        ok: publishedCjson === expected,
        draw_id: d.drawId,
        announcement_digest: o.announcementDigest,
        seed: o.seedHex,
        roster_root: d.rosterRoot,
        roster_size: d.n,
        result_digest: resultDigest,
        published_result_digest: publishedDigest === null ? resultDigest : publishedDigest,
        record_digest: recordDigest,
        sources: d.sourceReport,
        schools: summary(d, o),
        unassigned: o.unassigned.length,
        notes: notesFor(d),
      };
      if (!out.ok) {
        if (published instanceof LazyValue) published = published.get();
        out.difference = compareResult(d, o, published) ||
          difference('result', 'differs from the recomputed result in its canonical bytes', { member: 'result' });
        lap('compare');
      }
      out.timings_ms = timings;
      out.elapsed_ms = now() - t0;
      return out;
    } catch (e) {
      return refused(e, t0);
    }
  }

  /** Validate a draw input and compute its result (like `ruxue draw compute`). */
  async function computeInput(input) {
    const t0 = now();
    try {
      await selfTest();
      const text = asText(input);
      const { doc } = makeParser(text).parseDocument();
      const d = await validate(text, doc, 'input');
      const o = await computeDraw(d);
      const result = resultCjson(d, o);
      return {
        ok: true,
        draw_id: d.drawId,
        announcement_digest: o.announcementDigest,
        seed: o.seedHex,
        roster_root: d.rosterRoot,
        result,
        result_digest: await sha256Hex(result),
        sources: d.sourceReport,
        schools: summary(d, o),
        notes: notesFor(d),
        elapsed_ms: now() - t0,
      };
    } catch (e) {
      return refused(e, t0);
    }
  }

  // ---------------------------------------------------------------------
  // Announcement signature: JWS compact serialisation (RFC 7515) with
  // EdDSA / Ed25519 (RFC 8037); the payload is CJSON(announcement).

  function b64urlDecode(s, what) {
    if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) fail(what, 'is not base64url (no padding)');
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    const out = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
    // Refuse non-canonical encodings (stray bits in the last character).
    if (b64urlEncode(out) !== s) fail(what, 'is not canonical base64url');
    return out;
  }

  function b64urlEncode(bytes) {
    let bin = '';
    for (let k = 0; k < bytes.length; k++) bin += String.fromCharCode(bytes[k]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  /** Does this browser's Web Crypto do Ed25519? */
  async function ed25519Supported() {
    try {
      // The RFC 8032 test 1 public key.
      await subtle().importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }, { name: 'Ed25519' }, false, ['verify']);
      return true;
    } catch (e) {
      return false;
    }
  }

  /**
   * Check a JWS over the announcement. `jwk` is the publisher's public key
   * (an object or its JSON text: {kty:"OKP", crv:"Ed25519", x}). When
   * `recordText` (a record or input) is given, the signed announcement must
   * equal the record's as CJSON bytes.
   */
  async function verifyAnnouncementSignature(jwsCompact, jwk, recordText) {
    const out = { ok: false, supported: null, signature_valid: false };
    try {
      if (!(await ed25519Supported())) {
        out.supported = false;
        out.error = 'Ed25519 signatures are not supported by this browser (Web Crypto); the signature was NOT checked';
        return out;
      }
      out.supported = true;
      if (typeof jwsCompact !== 'string') fail('jws', 'must be the compact serialisation (text)');
      const parts = jwsCompact.trim().split('.');
      if (parts.length !== 3) fail('jws', 'must have three base64url parts separated by "." (header.payload.signature)');
      const headerText = asText(b64urlDecode(parts[0], 'jws header'));
      const header = parseStrict(headerText);
      if (header.get('alg') !== 'EdDSA') fail('jws header.alg', 'must be "EdDSA", found ' + show(header.get('alg')));
      if (header.has('crit')) fail('jws header.crit', 'critical header parameters are not supported');
      if (header.has('b64') && header.get('b64') !== true) fail('jws header.b64', 'unencoded payloads are not supported');
      const payloadBytes = b64urlDecode(parts[1], 'jws payload');
      const signature = b64urlDecode(parts[2], 'jws signature');
      if (signature.length !== 64) fail('jws signature', 'must be 64 bytes, found ' + signature.length);

      const key = typeof jwk === 'string' ? toPlain(parseStrict(jwk)) : jwk;
      if (!key || key.kty !== 'OKP' || key.crv !== 'Ed25519' || typeof key.x !== 'string') fail('jwk', 'must be {"kty":"OKP","crv":"Ed25519","x":...}');
      if (b64urlDecode(key.x, 'jwk.x').length !== 32) fail('jwk.x', 'must be a 32-byte public key');
      const pub = await subtle().importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: key.x }, { name: 'Ed25519' }, false, ['verify']);
      const signingInput = encoder.encode(parts[0] + '.' + parts[1]);
      out.signature_valid = await subtle().verify({ name: 'Ed25519' }, pub, signature, signingInput);
      if (!out.signature_valid) {
        out.error = 'the signature does not verify under this public key';
        return out;
      }

      const payloadText = asText(payloadBytes);
      const announcement = parseStrict(payloadText);
      if (cjson(announcement) !== payloadText) fail('jws payload', 'is not the canonical JSON (CJSON) of the announcement');
      out.announcement_digest = await sha256Hex(payloadBytes);
      out.draw_id = typeof announcement.get('draw_id') === 'string' ? announcement.get('draw_id') : undefined;
      if (recordText !== undefined && recordText !== null) {
        const { doc } = makeParser(asText(recordText)).parseDocument();
        if (!doc.has('announcement')) fail('record', 'missing member "announcement"');
        const mine = cjson(doc.get('announcement'));
        out.record_announcement_digest = await sha256Hex(mine);
        out.matches_record = mine === payloadText;
        if (!out.matches_record) {
          out.error = 'the signed announcement differs from the record\'s announcement (digest ' + out.announcement_digest +
            ' signed, ' + out.record_announcement_digest + ' in the record)';
          return out;
        }
      }
      out.ok = true;
      return out;
    } catch (e) {
      out.error = e && e.message ? e.message : String(e);
      return out;
    }
  }

  const api = {
    VERSION,
    verifyRecord,
    computeInput,
    verifyAnnouncementSignature,
    ed25519Supported,
    selfTest,
    // Exposed for tests and other tools built on this file.
    internal: { parseStrict, cjson, fromPlain, toPlain, ChaChaStream, uniformTry, uniformTryBig, merkleRoot, sha256Hex, Invalid },
  };
  root.RuxueVerify = api;
  if (typeof module === 'object' && module && module.exports) module.exports = api;
})(typeof globalThis !== 'undefined' ? globalThis : this);
