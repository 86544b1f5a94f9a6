import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_KINDS, openTestDatabase, type TestDatabase } from "../support/databases";
import { createdEvent, signedRequest, stackUser } from "../support/fixtures";
import { handlerFor, tableState } from "../support/harness";

describe.each(DATABASE_KINDS)("smoke on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openTestDatabase(kind);
  });
  afterAll(() => test.close());

  it("creates a user", async () => {
    const handler = handlerFor(test);
    const user = stackUser({ display_name: "John Smith" });
    const res = await handler(signedRequest(createdEvent(user)));
    expect(await res.json()).toEqual({ status: "processed" });
    expect(await tableState(test)).toEqual([
      {
        id: user.id,
        email: user.primary_email,
        username: "john_smith",
        displayName: "John Smith",
        avatar: null,
        plan: "FREE",
      },
    ]);
  });
});
