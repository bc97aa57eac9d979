"""@tessera/bpe's encode in plain Python, reading its tokenizer JSON (`BPETokenizer.toJSON()`,
format 'tessera-bpe'): special tokens split out first, lower-casing, the pre-tokenisation regex,
byte-level symbols (GPT-2's bytes_to_unicode, an optional word-end suffix on the last one) and
merges, lowest rank first, leftmost on ties; with `dropout` (and a `seed`) the BPE-dropout of
@tessera/bpe's mergeWithHeap, draw for draw (mulberry32 per encode call), so a PyTorch trainer gives
the prior the captions Tessera's PriorTrainer gives it. ClipTextTokenizer adds CLIP's cleaning and
`clip.tokenize` rows (start token, text, end token, zero padding).

The JSON's patterns are JavaScript regexes (`u` flag); Python's `re` lacks `\\p{L}` / `\\p{N}` and
its `\\s`, `\\d`, `\\w` are not JavaScript's, so `js_pattern_to_python` spells those out as explicit
character classes. No third-party module (not `regex`): runs on Debian's /usr/bin/python3.

    /usr/bin/python3 python/tessera_torch/bpe.py TOKENIZER.json [--clip CONTEXT_LENGTH] < prompts.json   # → ids per prompt, JSON
"""
import functools
import heapq
import html
import json
import re
import sys
import unicodedata

# JavaScript's \s (ECMAScript WhiteSpace + LineTerminator), which differs from Python's str.isspace().
JS_WHITESPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff'
JS_DIGIT = '0-9'
JS_WORD = 'A-Za-z0-9_'

CLIP_START_OF_TEXT = '<|startoftext|>'
CLIP_END_OF_TEXT = '<|endoftext|>'


def bytes_to_unicode():
    """GPT-2's byte → printable stand-in character table (bytes 0 … 255)."""
    printable = list(range(0x21, 0x7f)) + list(range(0xa1, 0xad)) + list(range(0xae, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR = bytes_to_unicode()


def _class_escape(cp):
    return f'\\U{cp:08x}' if cp > 0xffff else f'\\u{cp:04x}'


@functools.lru_cache(maxsize=None)
def unicode_category_class(major):
    """The body of a character class (no brackets) matching every code point whose Unicode general
    category starts with `major` ('L' letters, 'N' numbers): \\p{L} / \\p{N} for Python's re."""
    ranges, start, prev = [], None, None
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)).startswith(major):
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            ranges.append((start, prev))
            start = None
    if start is not None:
        ranges.append((start, prev))
    return ''.join(_class_escape(a) if a == b else f'{_class_escape(a)}-{_class_escape(b)}' for a, b in ranges)


def _class_body(escape):
    """A JS class escape (\\s, \\d, \\w, \\p{L}, \\p{N}) as a class body for Python's re."""
    if escape in ('s', 'S'):
        return JS_WHITESPACE
    if escape in ('d', 'D'):
        return JS_DIGIT
    if escape in ('w', 'W'):
        return JS_WORD
    if escape in ('p{L}', 'P{L}', 'p{Letter}'):
        return unicode_category_class('L')
    if escape in ('p{N}', 'P{N}', 'p{Number}'):
        return unicode_category_class('N')
    raise ValueError(f'unsupported escape \\{escape} in a tokenizer pattern')


def js_pattern_to_python(source):
    """A JavaScript regex source (compiled with the u flag) → an equivalent Python re source."""
    out, i, in_class = [], 0, False
    while i < len(source):
        ch = source[i]
        if ch == '\\':
            nxt = source[i + 1]
            escape = nxt
            if nxt in 'pP' and source[i + 2] == '{':
                escape = source[i + 1:source.index('}', i) + 1]
            if nxt == 'u' and source[i + 2] == '{':
                raise ValueError('\\u{…} escapes are not supported')
            if escape in ('s', 'd', 'w') or escape.startswith('p{'):
                body = _class_body(escape)
                out.append(body if in_class else f'[{body}]')
            elif escape in ('S', 'D', 'W') or escape.startswith('P{'):
                if in_class:
                    raise ValueError(f'a negated class escape \\{escape} inside [...] is not supported')
                out.append(f'[^{_class_body(escape)}]')
            else:
                out.append(source[i:i + 2])  # \x1c, \u1680, \|, \t …: the same in Python's re
            i += 1 + len(escape)
            continue
        if ch == '[' and not in_class:
            in_class = True
        elif ch == ']' and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return ''.join(out)


def compile_js_pattern(spec):
    """The JSON's {source, flags?} → a compiled Python pattern (only the i flag carries meaning)."""
    flags = re.IGNORECASE if 'i' in (spec.get('flags') or '') else 0
    return re.compile(js_pattern_to_python(spec['source']), flags)


GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


class BpeTokenizer:
    """A 'tessera-bpe' JSON tokenizer; encode() gives the ids @tessera/bpe's BPETokenizer.encode gives."""

    def __init__(self, model):
        if model.get('format') != 'tessera-bpe' or model.get('version') != 1:
            raise ValueError(f"not a tessera-bpe v1 tokenizer JSON (format {model.get('format')!r}, version {model.get('version')!r})")
        self.vocab = model['vocab']
        self.special_ids = dict(model.get('specialTokens') or {})
        self.suffix = model.get('endOfWordSuffix')
        self.lowercase = bool(model.get('lowercase'))
        self.add_prefix_space = bool(model.get('addPrefixSpace'))
        self.ignore_merges = bool(model.get('ignoreMerges'))
        self.pattern = compile_js_pattern(model.get('pattern') or {'source': GPT2_PATTERN})
        self.token_to_id = {}
        for i, token in enumerate(self.vocab):
            if token is not None:
                self.token_to_id.setdefault(token, i)  # the first id of a repeated token, as the JS Map
        self.pinned = {}
        self.byte_ids = [self._id_of(BYTE_TO_CHAR[b]) for b in range(256)]
        self.final_byte_ids = [self._id_of(BYTE_TO_CHAR[b] + self.suffix) for b in range(256)] if self.suffix else self.byte_ids
        if model.get('rankMode', 'merge') == 'merge':
            self.pairs = self._merge_ranks(model['merges'])
        else:
            self.pairs = self._token_ranks()
        names = sorted(self.special_ids, key=len, reverse=True)
        self.special_pattern = re.compile('|'.join(re.escape(s) for s in names)) if names else None

    @classmethod
    def from_file(cls, path):
        with open(path, encoding='utf-8') as f:
            return cls(json.load(f))

    @property
    def vocab_size(self):
        return len(self.vocab)

    def token_id(self, token):
        return self.special_ids.get(token, self.token_to_id.get(token))

    def _id_of(self, token):
        if token not in self.token_to_id:
            raise ValueError(f'vocabulary lacks the byte token {token!r}')
        return self.token_to_id[token]

    def _merge_ranks(self, merges):
        """(left, right) → (rank, merged id); a repeated pair keeps its last (highest) rank."""
        pairs = {}
        for rank, (left, right) in enumerate(zip(merges[0::2], merges[1::2])):  # stored flat: l0, r0, l1, r1, …
            merged = self.token_to_id[self.vocab[left] + self.vocab[right]]
            if rank > pairs.get((left, right), (-1, 0))[0]:
                pairs[(left, right)] = (rank, merged)
        return pairs

    def _token_ranks(self):
        """tiktoken ranks: any split of a token into two tokens merges, ranked by the token's id."""
        pairs, special = {}, set(self.special_ids.values())
        for i, token in enumerate(self.vocab):
            if token is None or len(token) < 2 or i in special:
                continue
            for cut in range(1, len(token)):
                left, right = self.token_to_id.get(token[:cut]), self.token_to_id.get(token[cut:])
                if left is not None and right is not None and i > pairs.get((left, right), (-1, 0))[0]:
                    pairs[(left, right)] = (i, i)
        return pairs

    def _merge(self, symbols):
        """Repeatedly merges the adjacent pair of lowest rank (leftmost on ties)."""
        while len(symbols) > 1:
            best, at = None, -1
            for j in range(len(symbols) - 1):
                found = self.pairs.get((symbols[j], symbols[j + 1]))
                if found is not None and (best is None or found[0] < best[0]):
                    best, at = found, j
            if best is None:
                break
            symbols[at:at + 2] = [best[1]]
        return symbols

    def _encode_piece(self, piece):
        if piece in self.pinned:
            return list(self.pinned[piece])
        data = piece.encode('utf-8')
        if self.ignore_merges:
            whole = self.token_to_id.get(''.join(BYTE_TO_CHAR[b] for b in data) + (self.suffix or ''))
            if whole is not None:
                return [whole]
        symbols = [self.byte_ids[b] for b in data]
        if symbols:
            symbols[-1] = self.final_byte_ids[data[-1]]
        return self._merge(symbols)

    def _merge_dropout(self, symbols, dropout, random):
        """@tessera/bpe's mergeWithHeap: a min-heap of (rank, position) over a linked list; the best
        merge is skipped with probability `dropout` (one draw of `random` per candidate reached),
        skipped ones return after the next applied merge, and the word is final once every remaining
        candidate was skipped."""
        n = len(symbols)
        if n < 2:
            return symbols
        nxt = [i + 1 if i + 1 < n else -1 for i in range(n)]
        prev = [i - 1 for i in range(n)]
        scale = 1
        while scale <= n:
            scale *= 2
        heap = []

        def rank(a, b):
            found = self.pairs.get((a, b))
            return -1 if found is None else found[0]

        def offer(pos):
            nx = nxt[pos]
            if nx < 0:
                return
            r = rank(symbols[pos], symbols[nx])
            if r >= 0:
                heapq.heappush(heap, r * scale + pos)

        for i in range(n - 1):
            offer(i)
        skipped, alive = [], [True] * n
        while heap:
            key = heapq.heappop(heap)
            pos = key % scale
            r = (key - pos) // scale
            nx = nxt[pos]
            if not alive[pos] or nx < 0 or rank(symbols[pos], symbols[nx]) != r:
                continue  # stale: absorbed, or its right neighbour changed since it was queued
            if dropout > 0 and random() < dropout:
                skipped.append(key)
                continue
            symbols[pos] = self.pairs[(symbols[pos], symbols[nx])][1]
            alive[nx] = False
            after = nxt[nx]
            nxt[pos] = after
            if after >= 0:
                prev[after] = pos
            for k in skipped:
                heapq.heappush(heap, k)
            skipped = []
            offer(pos)
            if prev[pos] >= 0:
                offer(prev[pos])
        out, i = [], 0
        while i >= 0:
            out.append(symbols[i])
            i = nxt[i]
        return out

    def _encode_piece_dropout(self, piece, dropout, random):
        if piece in self.pinned:
            return list(self.pinned[piece])
        data = piece.encode('utf-8')
        symbols = [self.byte_ids[b] for b in data]
        if symbols:
            symbols[-1] = self.final_byte_ids[data[-1]]
        return self._merge_dropout(symbols, dropout, random)

    def encode_ordinary(self, text, dropout=None, seed=None, random=None):
        """Ids of text, special-token text treated as ordinary text. With `dropout` (even 0) the merges
        run through the dropout path, drawing from `random` or a mulberry32 seeded with `seed`."""
        if dropout is not None and random is None:
            random = _dropout_random(seed)
        return self._encode_into(text, dropout, random)

    def _encode_into(self, text, dropout, random):
        if not text:
            return []
        if self.lowercase:
            text = text.lower()
        if self.add_prefix_space and not re.match(f'[{JS_WHITESPACE}]', text):
            text = ' ' + text
        if dropout is not None and not 0 <= dropout <= 1:
            raise ValueError(f'dropout must be in [0, 1], got {dropout}')
        ids = []
        for piece in self.pattern.findall(text):
            ids.extend(self._encode_piece(piece) if dropout is None else self._encode_piece_dropout(piece, dropout, random))
        return ids

    def encode(self, text, dropout=None, seed=None, random=None):
        """Ids of text; special tokens in the text become their ids. `dropout`/`seed` as
        BPETokenizer.encode(text, { dropout, seed }): one generator for the whole call."""
        if dropout is not None and random is None:
            random = _dropout_random(seed)
        if self.special_pattern is None:
            return self._encode_into(text, dropout, random)
        ids, start = [], 0
        for m in self.special_pattern.finditer(text):
            ids.extend(self._encode_into(text[start:m.start()], dropout, random))
            ids.append(self.special_ids[m.group(0)])
            start = m.end()
        ids.extend(self._encode_into(text[start:], dropout, random))
        return ids


def _dropout_random(seed):
    """@tessera/bpe's makeRandom: mulberry32 from the seed (Math.random without one)."""
    if seed is None:
        import random as _random
        return _random.random
    state = [seed & 0xFFFFFFFF]

    def draw():
        state[0] = (state[0] + 0x6D2B79F5) & 0xFFFFFFFF
        t = state[0]
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296
    return draw


def clip_clean(text):
    """openai/CLIP's basic_clean (html.unescape twice, strip; ftfy is not reproduced, as in
    @tessera/bpe) and whitespace_clean, then lower-casing."""
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r'\s+', ' ', text).strip().lower()


class ClipTextTokenizer:
    """@tessera/bpe's ClipTokenizer over a tessera-bpe JSON: `tokenize` gives clip.tokenize rows."""

    def __init__(self, bpe):
        self.bpe = bpe
        self.start_id = bpe.token_id(CLIP_START_OF_TEXT)
        self.end_id = bpe.token_id(CLIP_END_OF_TEXT)
        # CLIP's regex yields the special tokens as pieces; its cache maps them to their ids.
        bpe.pinned[CLIP_START_OF_TEXT] = [self.start_id]
        bpe.pinned[CLIP_END_OF_TEXT] = [self.end_id]

    def encode(self, text):
        return self.bpe.encode_ordinary(clip_clean(text))

    def tokenize(self, text, context_length, truncate=True):
        """[sot] + encode(text) + [eot], zero-padded; too long: cut, the last kept token → eot."""
        ids = self.encode(text)
        if len(ids) + 2 > context_length:
            if not truncate:
                raise ValueError(f'"{text}" is {len(ids) + 2} tokens with start and end; the context is {context_length}')
            return [self.start_id] + ids[:context_length - 2] + [self.end_id]
        return [self.start_id] + ids + [self.end_id] + [0] * (context_length - len(ids) - 2)


def main(argv):
    """Reads a JSON list of texts on stdin, prints their ids (or CLIP rows with --clip N) as JSON."""
    bpe = BpeTokenizer.from_file(argv[0])
    texts = json.load(sys.stdin)
    if len(argv) > 2 and argv[1] == '--clip':
        clip = ClipTextTokenizer(bpe)
        print(json.dumps([clip.tokenize(t, int(argv[2])) for t in texts]))
    else:
        print(json.dumps([bpe.encode(t) for t in texts]))


if __name__ == '__main__':
    main(sys.argv[1:])
