import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { features, sameWord, stem } from "./lexical";
import { verifyMatch } from "./verify";

describe("verifyMatch", () => {
  it.each([
    ["numbers", "Is it possible to lose 44 lbs in 3 months?", "Is it possible to lose 45 lbs in 5 months?"],
    ["numbers", "What changed in version 2.10.0?", "What changed in version 2.9.1?"],
    ["numbers", "Name two stations in Paris", "Name three stations in Paris"],
    ["negation", "Is the night train running on Sundays?", "Is the night train not running on Sundays?"],
    ["negation", "Why can't I log in?", "Why can I log in?"],
    ["question_type", "Why is the sky blue?", "How is the sky blue?"],
    ["question_type", "How many people live in Paris?", "How much does it cost to live in Paris?"],
    ["entities", "What is the weather like in Sacramento?", "What is the weather like in Kingsburg?"],
    ["entities", "What does the word 'adduce' mean?", "What does the word 'wry' mean?"],
    ["entities", "How do I call `load_dataset` lazily?", "How do I call `load_from_disk` lazily?"],
    ["contrast", "Who did you spend time with before you got a girlfriend?", "Who did you spend time with before you got a boyfriend?"],
    ["contrast", "Which parameters maximize the fraction of civilizations?", "Which parameters minimize the fraction of civilizations?"],
    ["order", "Do girls like introvert guys?", "Do guys like introvert girls?"],
    ["content", "What are common elective courses in biology?", "What are common elective courses in chemistry?"],
    ["content", "Where can I buy steroids?", "Where can I buy steroids online?"],
  ])("rejects a near-miss (%s): %s / %s", (reason, a, b) => {
    expect(verifyMatch(a, b)).toEqual({ ok: false, reason });
    expect(verifyMatch(b, a).ok).toBe(false);
  });

  it.each([
    ["How do I change my Gmail password?", "How can I change my Gmail password?"],
    ["The `schema` method returns the schema of the table.", "The `schema` method provides the schema of the table."],
    ["You can use the `map()` function to process batches.", "The `map()` function can be utilized for processing batches."],
    ["There are over 100 languages on the Hub.", "The Hub has more than one hundred languages."],
    ["No, it doesn't exist in version 2.10.0.", "It is not available in version 2.10.0."],
    ["Whether a safe cast or not is needed is decided by `safe`.", "`safe` decides if a safe cast is needed."],
  ])("accepts a rewording: %s / %s", (a, b) => {
    expect(verifyMatch(a, b)).toEqual({ ok: true });
  });

  it("reads a role swap only when both sides hold the same words (found by the property below)", () => {
    expect(verifyMatch("do girls like introvert guys", "do guys like introvert girls")).toMatchObject({ ok: false, reason: "order" });
    expect(verifyMatch("many many station", "many station use").ok).toBe(verifyMatch("many station use", "many many station").ok);
  });

  it("always accepts a text against itself, and decides symmetrically", () => {
    const word = fc.constantFrom("how", "many", "trains", "not", "Paris", "leave", "2024", "before", "after", "use", "utilize", "the", "station", "?", "'x'");
    const text = fc.array(word, { minLength: 1, maxLength: 12 }).map((w) => w.join(" "));
    fc.assert(fc.property(text, (t) => verifyMatch(t, t).ok));
    fc.assert(fc.property(text, text, (a, b) => verifyMatch(a, b).ok === verifyMatch(b, a).ok));
  });
});

describe("lexical features", () => {
  it("stems forms of one word together and keeps different words apart", () => {
    for (const [a, b] of [["use", "using"], ["used", "uses"], ["biology", "biological"], ["running", "run"], ["studies", "study"], ["possible", "possibility"], ["utilize", "utilizing"], ["mentions", "mentioned"], ["processes", "process"]]) {
      expect(sameWord(a!, b!), `${a} ~ ${b}`).toBe(true);
    }
    for (const [a, b] of [["care", "career"], ["program", "programmer"], ["invest", "investor"], ["india", "indicate"], ["psychiatry", "psychotherapy"], ["use", "user"]]) {
      expect(sameWord(a!, b!), `${a} !~ ${b}`).toBe(false);
    }
    fc.assert(fc.property(fc.stringMatching(/^[a-z]{1,14}$/), (w) => stem(w).length >= Math.min(2, w.length)));
  });

  it("extracts numbers, negation, the question word and entities", () => {
    expect(features("What happened in 1999 and in two thousand and five?")).toMatchObject({ questionType: "what" });
    expect([...features("Over one hundred, 3.5 and 2,000 items").numbers].sort()).toEqual(["100", "2,000", "3.5"]);
    expect(features("One can do it").numbers.size).toBe(0);
    expect(features("the constructor and toString of one hundred").numbers).toEqual(new Set(["100"]));
    expect(features("No, it is fine.").negated).toBe(false);
    expect(features("No data is kept.").negated).toBe(true);
    expect(features("It works not only here but there.").negated).toBe(false);
    expect(features("How many trains leave?").questionType).toBe("how many");
    expect(features("Is it raining?").questionType).toBe("yesno");
    expect([...features("Trains from Paris to Lyon use the TGV_line and iPhone apps.").entities].sort()).toEqual(["iphone", "line", "lyon", "paris", "tgv"]);
  });
});
