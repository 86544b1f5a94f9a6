import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SyncError } from "../errors";
import { createVerifier, signPayload } from "./verify";

// The test vector of STACK-AUTH.md (from Svix's documentation).
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TIMESTAMP = 1614265330;
const BODY = '{"test": 2432232314}';
const SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

const OTHER_SECRET = "whsec_" + Buffer.from("another secret, for rotation tests").toString("base64");
const THIRD_SECRET = "whsec_" + Buffer.from("yet another secret").toString("base64");

const bytes = (text: string) => new TextEncoder().encode(text);

function svixHeaders(signature = SIGNATURE, id = ID, timestamp = TIMESTAMP): Headers {
  return new Headers({ "svix-id": id, "svix-timestamp": String(timestamp), "svix-signature": signature });
}

/** The verifier's answer: the delivery, or the SyncError code it threw. */
function outcome(run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    if (error instanceof SyncError) return error.code;
    throw error;
  }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(TIMESTAMP * 1000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("signPayload", () => {
  it("gives exactly the documented signature for the test vector", () => {
    expect(signPayload(SECRET, ID, TIMESTAMP, BODY)).toEqual({
      "svix-id": ID,
      "svix-timestamp": "1614265330",
      "svix-signature": SIGNATURE,
    });
  });

  it("gives the same signature for the body as bytes", () => {
    expect(signPayload(SECRET, ID, TIMESTAMP, bytes(BODY))["svix-signature"]).toBe(SIGNATURE);
  });
});

describe("createVerifier", () => {
  it("accepts the documented test vector at its own time", () => {
    const verify = createVerifier([SECRET]);
    expect(verify(svixHeaders(), bytes(BODY))).toEqual({ id: ID, timestamp: TIMESTAMP });
  });

  it.each([
    ["300 seconds old", TIMESTAMP + 300],
    ["299 seconds old", TIMESTAMP + 299],
    ["300 seconds in the future", TIMESTAMP - 300],
  ])("accepts a timestamp %s", (_label, now) => {
    vi.setSystemTime(now * 1000);
    expect(createVerifier([SECRET])(svixHeaders(), bytes(BODY))).toEqual({ id: ID, timestamp: TIMESTAMP });
  });

  it.each([
    ["301 seconds old", TIMESTAMP + 301],
    ["a day old", TIMESTAMP + 86_400],
    ["301 seconds in the future", TIMESTAMP - 301],
    ["an hour in the future", TIMESTAMP - 3_600],
  ])("refuses a correctly signed delivery whose timestamp is %s", (_label, now) => {
    vi.setSystemTime(now * 1000);
    expect(outcome(() => createVerifier([SECRET])(svixHeaders(), bytes(BODY)))).toBe("invalid_signature");
  });

  it("refuses the test vector with the wrong secret", () => {
    expect(outcome(() => createVerifier([OTHER_SECRET])(svixHeaders(), bytes(BODY)))).toBe(
      "invalid_signature",
    );
  });

  it("accepts a header with several signatures when one of them matches", () => {
    const forged = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const other = signPayload(OTHER_SECRET, ID, TIMESTAMP, BODY)["svix-signature"];
    const verify = createVerifier([SECRET]);
    expect(verify(svixHeaders(`${forged} ${other} ${SIGNATURE}`), bytes(BODY)).id).toBe(ID);
    expect(verify(svixHeaders(`${SIGNATURE} ${forged}`), bytes(BODY)).id).toBe(ID);
  });

  it("refuses a header with several signatures when none matches", () => {
    const forged = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const other = signPayload(OTHER_SECRET, ID, TIMESTAMP, BODY)["svix-signature"];
    expect(outcome(() => createVerifier([SECRET])(svixHeaders(`${forged} ${other}`), bytes(BODY)))).toBe(
      "invalid_signature",
    );
  });

  it("refuses the right signature under another version tag", () => {
    const v2 = SIGNATURE.replace(/^v1,/, "v2,");
    const bare = SIGNATURE.replace(/^v1,/, "");
    expect(outcome(() => createVerifier([SECRET])(svixHeaders(v2), bytes(BODY)))).toBe("invalid_signature");
    expect(outcome(() => createVerifier([SECRET])(svixHeaders(bare), bytes(BODY)))).toBe("invalid_signature");
  });

  it("accepts a delivery signed with the second secret of a rotation", () => {
    const verify = createVerifier([OTHER_SECRET, SECRET]);
    expect(verify(svixHeaders(), bytes(BODY))).toEqual({ id: ID, timestamp: TIMESTAMP });
  });

  it("accepts a delivery signed with any of three secrets", () => {
    const verify = createVerifier([SECRET, OTHER_SECRET, THIRD_SECRET]);
    for (const secret of [SECRET, OTHER_SECRET, THIRD_SECRET]) {
      const signed = signPayload(secret, ID, TIMESTAMP, BODY);
      expect(verify(new Headers(signed), bytes(BODY)).id).toBe(ID);
    }
  });

  it("accepts the Standard Webhooks header names", () => {
    const headers = new Headers({
      "webhook-id": ID,
      "webhook-timestamp": String(TIMESTAMP),
      "webhook-signature": SIGNATURE,
    });
    expect(createVerifier([SECRET])(headers, bytes(BODY))).toEqual({ id: ID, timestamp: TIMESTAMP });
  });

  it("reads header names in any case", () => {
    const headers = new Headers({
      "Svix-Id": ID,
      "SVIX-TIMESTAMP": String(TIMESTAMP),
      "Svix-Signature": SIGNATURE,
    });
    expect(createVerifier([SECRET])(headers, bytes(BODY)).id).toBe(ID);
  });

  it.each(["svix-id", "svix-timestamp", "svix-signature"])("refuses a delivery without %s", (name) => {
    const headers = svixHeaders();
    headers.delete(name);
    expect(outcome(() => createVerifier([SECRET])(headers, bytes(BODY)))).toBe("invalid_signature");
  });

  it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])(
    "refuses a Standard Webhooks delivery without %s",
    (name) => {
      const headers = new Headers({
        "webhook-id": ID,
        "webhook-timestamp": String(TIMESTAMP),
        "webhook-signature": SIGNATURE,
      });
      headers.delete(name);
      expect(outcome(() => createVerifier([SECRET])(headers, bytes(BODY)))).toBe("invalid_signature");
    },
  );

  it.each(["svix-id", "svix-timestamp", "svix-signature"])("refuses a delivery whose %s is empty", (name) => {
    const headers = svixHeaders();
    headers.set(name, "");
    expect(outcome(() => createVerifier([SECRET])(headers, bytes(BODY)))).toBe("invalid_signature");
  });

  it("refuses a non-numeric timestamp", () => {
    expect(outcome(() => createVerifier([SECRET])(svixHeaders(SIGNATURE, ID, Number.NaN), bytes(BODY)))).toBe(
      "invalid_signature",
    );
  });

  it.each([
    ["one changed character", '{"test": 2432232315}'],
    ["an added space", '{"test":  2432232314}'],
    ["a trailing newline", '{"test": 2432232314}\n'],
    ["an empty body", ""],
  ])("refuses a body with %s", (_label, body) => {
    expect(outcome(() => createVerifier([SECRET])(svixHeaders(), bytes(body)))).toBe("invalid_signature");
  });

  it("refuses a signature made for another svix-id", () => {
    expect(outcome(() => createVerifier([SECRET])(svixHeaders(SIGNATURE, "msg_other"), bytes(BODY)))).toBe(
      "invalid_signature",
    );
  });

  it("refuses a signature made for another timestamp, even a recent one", () => {
    expect(
      outcome(() => createVerifier([SECRET])(svixHeaders(SIGNATURE, ID, TIMESTAMP + 1), bytes(BODY))),
    ).toBe("invalid_signature");
  });

  it("accepts what signPayload signs, for any body, at the signing time", () => {
    const verify = createVerifier([SECRET]);
    const body = bytes(JSON.stringify({ type: "user.created", data: { id: "é ü 😀", n: [1, 2, 3] } }));
    const signed = signPayload(SECRET, "msg_any", TIMESTAMP, body);
    expect(verify(new Headers(signed), body)).toEqual({ id: "msg_any", timestamp: TIMESTAMP });
  });

  it("refuses to be built without a secret", () => {
    expect(() => createVerifier([])).toThrow();
  });
});
