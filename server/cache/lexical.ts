/**
 * Lexical features of a question or statement, for the semantic cache's verification step (pure, English).
 * Embeddings are good at "about the same thing" and bad at the small words that change the answer: a different
 * number, a named entity, a negation, a question word, a word added or swapped. These functions extract them.
 */

/** Function words: they carry grammar, not the topic, so they never count as a difference. */
const STOP_WORDS = new Set(
  (
    "a an the and or but if then else of to in on at by for with from into onto about as is are was were be been being am " +
    "do does did doing done have has had having i me my mine myself we us our ours you your yours yourself he him his she " +
    "her hers it its itself they them their theirs this that these those there here what which who whom whose when where " +
    "why how can could shall should will would may might must so than too very just also only s t d ll m re ve y o any " +
    "some such own same other each few more most all both up down out off over under again further once yes one ones " +
    "please tell give let know explain want need get way ways thing things not no nor non whether"
  ).split(" "),
);

/**
 * Light verbs and discourse words that a rephrasing swaps freely ("use" → "utilize", "provides" → "offers",
 * "allows" → "enables"). A difference in these is evidence of rewording rather than of another question; a
 * difference in any other content word (a topic noun, a modifier) is what changes the question.
 */
const GENERIC_WORDS = new Set(
  (
    "use usage utilize utilise employ provide offer give enable allow let permit make create generate produce build obtain " +
    "acquire get retrieve fetch find locate access determine specify indicate define denote set setting include contain " +
    "comprise consist hold store keep exist available present possible able ability capable support return yield show " +
    "display call apply perform execute run need require necessary help facilitate assist method function way manner " +
    "approach option choice also either well order particular specific certain various several following " +
    "information info detail purpose aim intent intended serve achieve accomplish done doing"
  ).split(" "),
);

/** Words that negate what follows. "no" and "without" count; a leading "No," / "Yes," answer word does not. */
const NEGATIONS = new Set(["not", "no", "non", "never", "none", "nobody", "nothing", "neither", "nor", "cannot", "nowhere", "without"]);

/** Question words, longest first so "how many" wins over "how". */
const QUESTION_WORDS = [
  "how many",
  "how much",
  "how long",
  "how old",
  "how often",
  "how far",
  "how",
  "what",
  "why",
  "when",
  "where",
  "who",
  "whom",
  "whose",
  "which",
] as const;

/**
 * Pairs of words that look alike to an embedding but ask opposite things. Generic English, not tuned to any data:
 * a request that contains one side while the cached one contains the other is a different question.
 */
const CONTRASTS: ReadonlyArray<readonly [string, string]> = [
  ["boyfriend", "girlfriend"],
  ["husband", "wife"],
  ["man", "woman"],
  ["men", "women"],
  ["male", "female"],
  ["boy", "girl"],
  ["son", "daughter"],
  ["father", "mother"],
  ["brother", "sister"],
  ["best", "worst"],
  ["better", "worse"],
  ["before", "after"],
  ["buy", "sell"],
  ["increase", "decrease"],
  ["maximum", "minimum"],
  ["maximize", "minimize"],
  ["max", "min"],
  ["more", "less"],
  ["most", "least"],
  ["pros", "cons"],
  ["advantage", "disadvantage"],
  ["advantages", "disadvantages"],
  ["good", "bad"],
  ["positive", "negative"],
  ["first", "last"],
  ["high", "low"],
  ["higher", "lower"],
  ["start", "stop"],
  ["enable", "disable"],
  ["open", "close"],
  ["import", "export"],
  ["input", "output"],
  ["upload", "download"],
  ["add", "remove"],
  ["include", "exclude"],
  ["inside", "outside"],
  ["above", "below"],
  ["past", "future"],
  ["true", "false"],
  ["win", "lose"],
  ["gain", "lose"],
  ["love", "hate"],
  ["cheap", "expensive"],
  ["old", "new"],
  ["young", "old"],
  ["fast", "slow"],
  ["easy", "hard"],
  ["north", "south"],
  ["east", "west"],
  ["left", "right"],
];

export interface TextFeatures {
  /** Lowercased word tokens (letters and digits), "n't" split off as "not". */
  words: string[];
  /** Words that are not function words or numbers. */
  content: string[];
  /** Numbers as written (digits with their separators), e.g. "2.10.0", "44". */
  numbers: Set<string>;
  negated: boolean;
  /** The question word that opens the question, "yesno" for other questions, null for statements. */
  questionType: string | null;
  /** Capitalized words inside a sentence, mixed-case or snake_case identifiers, quoted terms, lowercased. */
  entities: Set<string>;
}

export function words(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replace(/[’`]/g, "'")
      .replace(/n't\b/g, " not")
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

export function features(text: string): TextFeatures {
  const all = words(text);
  const numbers = new Set<string>();
  for (const match of text.matchAll(/\d+(?:[.,:]\d+)*/g)) numbers.add(match[0]);
  for (const value of spelledNumbers(all)) numbers.add(String(value));
  // A leading answer word ("No, ..." / "Yes, ...") restates the question's polarity, and "whether … or not" and
  // "not only … but" do not negate anything.
  const body = words(text.replace(/^\s*(?:no|yes)\s*[,.!]/i, "")).filter(
    (w, i, all) => !(w === "not" && (all[i - 1] === "or" || all[i + 1] === "only")),
  );
  return {
    words: all,
    content: all.filter((w) => !STOP_WORDS.has(w) && !/\d/.test(w) && !UNITS.has(w) && !SCALES.has(w)),
    numbers,
    negated: body.some((w) => NEGATIONS.has(w)),
    questionType: questionType(text, all),
    entities: entities(text),
  };
}

const UNITS = new Map(
  Object.entries({
    one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
    thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19, twenty: 20,
    thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
  }),
);
const SCALES = new Map(Object.entries({ hundred: 100, thousand: 1_000, million: 1_000_000, billion: 1_000_000_000 }));

/** Numbers written in words ("two", "one hundred", "twenty five"), so "100" and "one hundred" agree. A lone "one"
 * is a pronoun as often as a number ("one can …") and is left out. */
function spelledNumbers(all: readonly string[]): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < all.length) {
    const start = i;
    let total = 0;
    let current = 0;
    while (i < all.length && (UNITS.has(all[i]!) || SCALES.has(all[i]!) || (all[i] === "and" && i > start && UNITS.has(all[i + 1] ?? "")))) {
      const w = all[i]!;
      const unit = UNITS.get(w);
      const scale = SCALES.get(w);
      if (unit !== undefined) current += unit;
      else if (scale !== undefined) {
        current = Math.max(current, 1) * scale;
        if (scale >= 1000) {
          total += current;
          current = 0;
        }
      }
      i += 1;
    }
    if (i === start) {
      i += 1;
      continue;
    }
    if (i - start === 1 && all[start] === "one") continue;
    out.push(total + current);
  }
  return out;
}

function questionType(text: string, all: string[]): string | null {
  if (!text.includes("?")) return null;
  const joined = ` ${all.join(" ")} `;
  let best: { at: number; word: string } | null = null;
  for (const word of QUESTION_WORDS) {
    const at = joined.indexOf(` ${word} `);
    if (at >= 0 && (best === null || at < best.at)) best = { at, word };
  }
  return best?.word ?? "yesno";
}

function entities(text: string): Set<string> {
  const out = new Set<string>();
  for (const match of text.matchAll(/[\p{L}\p{N}_]+/gu)) {
    const token = match[0];
    const start = match.index;
    const before = text.slice(0, start).trimEnd();
    const sentenceStart = before === "" || /[.!?:;\n"'(\[]$/.test(before);
    const mixedCase = /\p{Lu}/u.test(token.slice(1)) && /\p{Ll}/u.test(token);
    const identifier = token.includes("_");
    const capitalized = /^\p{Lu}/u.test(token) && token !== "I";
    if (identifier || mixedCase || (capitalized && !sentenceStart)) {
      for (const part of token.toLowerCase().split("_")) if (part && !STOP_WORDS.has(part)) out.add(part);
    }
  }
  // Quoted terms ('Paribhasha', "fuku") are what the question is about, whatever their case.
  for (const match of text.matchAll(/(?:^|[\s(])['"“‘]+([^'"”’\n]{1,40})['"”’]+/gu)) {
    for (const w of words(match[1]!)) if (!STOP_WORDS.has(w)) out.add(w);
  }
  return out;
}

/** Inflections a light stemmer strips first, then one derivational suffix; each leaves at least three letters. */
const INFLECTIONS = ["ies", "ied", "ing", "es", "ed", "ly", "s"];
/** Derivational suffixes; the second list is for stems whose final "e" was dropped ("utiliz-ing" → "util"). */
const DERIVATIONS = [
  "ibility", "ability", "ically", "ation", "ition", "ment", "ness", "ity", "ical", "ally", "ize", "ise", "ion", "ive", "ful",
  "less", "able", "ible", "ism", "ist", "ic", "al",
];
const DERIVATIONS_WITHOUT_E = ["iz", "is", "iv", "abl", "ibl"];

function strip(w: string, suffixes: readonly string[]): string {
  for (const suffix of suffixes) {
    if (!w.endsWith(suffix) || w.length - suffix.length < 3) continue;
    // "process", "status", "analysis" end in s without being plurals.
    if (suffix === "s" && /(?:ss|us|is)$/.test(w)) continue;
    return w.slice(0, -suffix.length) + (suffix === "ies" || suffix === "ied" ? "y" : "");
  }
  return w;
}

/** Forms of three-letter verbs, whose stems would be too short to strip safely. */
const SHORT_FORMS = new Map(Object.entries({ use: "us", used: "us", uses: "us", using: "us", see: "se", seen: "se", sees: "se", seeing: "se" }));

/**
 * A light English stemmer: strips one inflectional or derivational suffix, a final "e" and a doubled final consonant,
 * so the forms of a word meet ("use" / "used" / "using" → "us", "biology" / "biological" → "biolog"). Agent nouns
 * keep their ending ("program" / "programmer", "care" / "career" stay apart).
 */
export function stem(word: string): string {
  const short = SHORT_FORMS.get(word);
  if (short) return short;
  if (word.length <= 3) return word;
  const dropE = (x: string) => ((x.endsWith("y") || x.endsWith("e")) && x.length > 3 ? x.slice(0, -1) : x);
  const inflected = strip(word, INFLECTIONS);
  let w = strip(inflected, DERIVATIONS);
  if (w === inflected) w = strip(dropE(inflected), DERIVATIONS_WITHOUT_E);
  w = dropE(w);
  if (w.length > 3 && w.at(-1) === w.at(-2) && !/[aeiouls]/.test(w.at(-1)!)) w = w.slice(0, -1);
  return w;
}

/** Whether two words are forms of one word (see stem): equal stems, or long stems one letter apart at the end. */
export function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const sa = stem(a);
  const sb = stem(b);
  if (sa === sb) return true;
  const [short, long] = sa.length <= sb.length ? [sa, sb] : [sb, sa];
  return short.length >= 5 && long.length === short.length + 1 && long.startsWith(short);
}

/** Content words of `a` that no word of `b` matches (see sameWord). */
export function unmatched(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set(a)].filter((w) => !b.some((x) => sameWord(w, x)));
}

/** Whether one text uses a word whose opposite the other uses (see CONTRASTS). */
export function contrasting(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return CONTRASTS.some(([x, y]) => (sa.has(x) && sb.has(y) && !sa.has(y) && !sb.has(x)) || (sa.has(y) && sb.has(x) && !sa.has(x) && !sb.has(y)));
}

const GENERIC_STEMS = new Set([...GENERIC_WORDS].map(stem));

/** Whether a word is one of the generic words (or a form of one). */
export function generic(word: string): boolean {
  return GENERIC_STEMS.has(stem(word));
}
