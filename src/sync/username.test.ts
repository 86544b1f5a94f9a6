import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  RESERVED_USERNAMES,
  USERNAME_MAX_LENGTH,
  foldUsername,
  usernameBase,
  usernameCandidate,
  usernameCandidates,
} from "./username";

/** What every username the sync stores must look like (SPEC §4 "Username"). */
const USERNAME_SHAPE = /^[a-z0-9_]{1,24}$/;

function wellFormed(name: string): boolean {
  return USERNAME_SHAPE.test(name) && !name.startsWith("_") && !name.endsWith("_") && !name.includes("__");
}

describe("foldUsername", () => {
  it.each([
    ["José Müller", "jose_muller"],
    ["Zoë", "zoe"],
    ["Ærøskøbing", "aeroskobing"],
    ["Straße", "strasse"],
    ["İstanbul", "istanbul"],
    ["ﬁsh", "fish"],
    ["１２３", "123"],
  ])("folds the accented or compatibility text %j to plain ASCII %j", (input, expected) => {
    expect(foldUsername(input)).toBe(expected);
  });

  it("romanises CJK text to ASCII letters", () => {
    const folded = foldUsername("山田太郎");
    expect(folded).toMatch(/^[a-z]{3,}$/);
    expect(folded).toBe("shantiantailang");
  });

  it("drops emoji instead of spelling out their names", () => {
    expect(foldUsername("😀 Bob 😀")).toBe("bob");
    expect(foldUsername("👨‍👩‍👧 family")).toBe("family");
    expect(foldUsername("😀😀😀")).toBe("");
  });

  it("lower-cases", () => {
    expect(foldUsername("JOHN Smith")).toBe("john_smith");
  });

  it("keeps only a-z, 0-9 and underscores", () => {
    expect(foldUsername("a.b-c+d@e f!g#h$i%j")).toBe("a_b_c_d_e_f_g_h_i_j");
    expect(foldUsername("Agent 007")).toBe("agent_007");
  });

  it("collapses runs of underscores and trims them from both ends", () => {
    expect(foldUsername("__a___b__")).toBe("a_b");
    expect(foldUsername("  -- john -- smith --  ")).toBe("john_smith");
  });

  it("cuts to 24 characters and never ends the cut on an underscore", () => {
    expect(foldUsername("a".repeat(30))).toBe("a".repeat(24));
    // The 24th character would be the underscore between the words.
    const folded = foldUsername(`${"a".repeat(23)} bbbb`);
    expect(folded).toBe("a".repeat(23));
  });

  it("ignores zero-width and bidirectional control characters", () => {
    expect(foldUsername("\u200bab\u200bc\u200d")).toBe("abc");
    expect(foldUsername("\u202eevil\u202c")).toBe("evil");
  });
});

describe("usernameBase", () => {
  it("comes from the display name when it gives at least three usable characters", () => {
    expect(usernameBase("John Smith", "someone@example.com")).toBe("john_smith");
    expect(usernameBase("Bob", "someone@example.com")).toBe("bob");
  });

  it("falls back to the email's local part when the display name gives fewer than three usable characters", () => {
    expect(usernameBase("Al", "alice.jones@example.com")).toBe("alice_jones");
    // "a__b" folds to "a_b": two usable characters only.
    expect(usernameBase("a  b", "alice.jones@example.com")).toBe("alice_jones");
    expect(usernameBase("😀😀😀", "carol@example.com")).toBe("carol");
    expect(usernameBase(null, "dave+tag@example.com")).toBe("dave_tag");
    expect(usernameBase("", "erin@example.com")).toBe("erin");
  });

  it("falls back to user when neither the display name nor the email gives three usable characters", () => {
    expect(usernameBase(null, null)).toBe("user");
    expect(usernameBase("!!", "x@example.com")).toBe("user");
    expect(usernameBase("   ", "   @example.com")).toBe("user");
    expect(usernameBase("", "")).toBe("user");
  });

  it.each([
    ["only symbols", "!@#$%^&*()"],
    ["whitespace", " \t\n\r "],
    ["zero-width characters", "\u200b\u200c\u200d\ufeff"],
    ["emoji", "🔥🔥🔥🔥"],
  ])("gives user for a display name of %s with no email", (_label, input) => {
    expect(usernameBase(input, null)).toBe("user");
  });

  it.each([
    ["a path traversal", "../../etc", "etc"],
    ["SQL-ish quotes", "'; DROP TABLE users; --", "drop_table_users"],
    ["quotes and backslashes", `Robert"); \\x00 '' "`, "robert_x00"],
    ["right-to-left text", "\u202eמשה כהן", "msh_khhn"],
    ["Arabic text", "مرحبا", "mrhb"],
  ])("makes a safe base from %s", (_label, input, expected) => {
    const base = usernameBase(input, null);
    expect(base).toBe(expected);
    expect(wellFormed(base)).toBe(true);
  });

  it("cuts a 1000-character display name to 24 characters", () => {
    const base = usernameBase("x".repeat(1000), null);
    expect(base).toBe("x".repeat(24));
  });

  it("reads the local part of an email that has no @ as the whole string", () => {
    expect(usernameBase(null, "no-at-sign")).toBe("no_at_sign");
  });
});

describe("usernameCandidates", () => {
  it("tries the base itself first, then numbered suffixes", () => {
    expect(usernameCandidates("john_smith", 0, 4)).toEqual([
      "john_smith",
      "john_smith1",
      "john_smith2",
      "john_smith3",
    ]);
    expect(usernameCandidates("john_smith", 10, 2)).toEqual(["john_smith10", "john_smith11"]);
  });

  it.each(["admin", "root", "api", "support", "system", "null", "me", "settings", "www", "stack"])(
    "counts %s, named by SPEC §4, as reserved and numbers it from 1",
    (word) => {
      expect(RESERVED_USERNAMES.has(word)).toBe(true);
      expect(usernameCandidates(usernameBase(word.toUpperCase(), null), 0, 1)).toEqual(
        word.length >= 3 ? [`${word}1`] : ["user1"],
      );
    },
  );

  it.each([...RESERVED_USERNAMES])("never offers the reserved word %s bare", (word) => {
    const candidates = usernameCandidates(word, 0, 3);
    expect(candidates).not.toContain(word);
    expect(candidates[0]).toBe(`${word}1`);
  });

  it("numbers the fallback user from 1, since user itself is reserved", () => {
    expect(usernameCandidates(usernameBase(null, null), 0, 2)).toEqual(["user1", "user2"]);
  });

  it.each([
    [1, "aaaaaaaaaaaaaaaaaaaaaaa1"],
    [9, "aaaaaaaaaaaaaaaaaaaaaaa9"],
    [10, "aaaaaaaaaaaaaaaaaaaaaa10"],
    [99, "aaaaaaaaaaaaaaaaaaaaaa99"],
    [100, "aaaaaaaaaaaaaaaaaaaaa100"],
    [999, "aaaaaaaaaaaaaaaaaaaaa999"],
    [1000, "aaaaaaaaaaaaaaaaaaaa1000"],
  ])("cuts a 24-character base so that suffix %i fits in 24 characters", (n, expected) => {
    const candidate = usernameCandidate("a".repeat(24), n);
    expect(candidate).toBe(expected);
    expect(candidate).toHaveLength(USERNAME_MAX_LENGTH);
  });

  it("does not leave an underscore before the suffix when the cut ends on one", () => {
    // Cut to 22 characters for "10", the base's 22nd character is "_".
    const base = `${"a".repeat(21)}_bb`;
    expect(usernameCandidate(base, 10)).toBe(`${"a".repeat(21)}10`);
    expect(usernameCandidate(base, 1)).toBe(`${"a".repeat(21)}_b1`);
  });

  it("keeps a short base whole and appends the suffix", () => {
    expect(usernameCandidate("bob", 123)).toBe("bob123");
  });

  it("offers distinct candidates for a 24-character base whose 23rd character is a 1", () => {
    // Candidate 1 is base[0..23] + "1" and candidate 11 is base[0..22] + "11": the same string here.
    const base = `${"a".repeat(22)}1b`;
    const candidates = usernameCandidates(base, 0, 20);
    expect(new Set(candidates).size).toBe(candidates.length);
  });

  it("never offers a 24-character base that ends in a digit again as one of its numbered candidates", () => {
    // Candidate 9 is base[0..23] + "9": the base itself.
    const base = `${"a".repeat(23)}9`;
    expect(usernameCandidates(base, 1, 20)).not.toContain(base);
  });
});

describe("username properties", () => {
  const anyText = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 60 }),
    fc.string({ unit: "binary", maxLength: 60 }),
    fc.string({ maxLength: 300 }),
    fc.constantFrom("admin", "Root", "user", "ME", "../../etc", "'; --", "\u200b", "😀", "ß", "é"),
  );
  const nullableText = fc.option(anyText, { nil: null });

  it("gives a non-empty, well-formed base of at most 24 characters for any display name and email", () => {
    fc.assert(
      fc.property(nullableText, nullableText, (displayName, email) => {
        const base = usernameBase(displayName, email);
        expect(base.length).toBeGreaterThan(0);
        expect(wellFormed(base)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("gives well-formed candidates of at most 24 characters, all distinct, for any base", () => {
    fc.assert(
      fc.property(nullableText, nullableText, fc.nat({ max: 2000 }), (displayName, email, from) => {
        const base = usernameBase(displayName, email);
        const candidates = [...usernameCandidates(base, 0, 15), ...usernameCandidates(base, from, 120)];
        for (const candidate of candidates) {
          expect(candidate.length).toBeLessThanOrEqual(USERNAME_MAX_LENGTH);
          expect(wellFormed(candidate)).toBe(true);
          expect(RESERVED_USERNAMES.has(candidate)).toBe(false);
        }
        const unique = usernameCandidates(base, 0, from + 120);
        expect(new Set(unique).size).toBe(unique.length);
      }),
      { numRuns: 500 },
    );
  });

  it("gives distinct candidates for any base of 23 or 24 characters made of letters, digits and underscores", () => {
    const char = fc.constantFrom(..."abc19_");
    const longBase = fc
      .array(char, { minLength: 23, maxLength: 24 })
      .map((chars) => foldUsername(`x${chars.join("")}`))
      .filter((b) => b.length >= 3);
    fc.assert(
      fc.property(longBase, (base) => {
        const candidates = usernameCandidates(base, 0, 1200);
        expect(new Set(candidates).size).toBe(candidates.length);
      }),
      { numRuns: 300 },
    );
  });
});
