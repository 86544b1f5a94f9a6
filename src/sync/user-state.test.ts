import { describe, expect, it } from "vitest";
import type { StackUser } from "../stack";
import { stackUserSchema } from "../stack";
import { stackUser } from "../../test/support/fixtures";
import { PLACEHOLDER_EMAIL_DOMAIN, desiredUser, placeholderEmail, planOf, storedEmail } from "./user-state";

const ID = "6f1c2a8e-3d4b-4c5a-9e7f-0a1b2c3d4e5f";

/** A user as the handler hands it over: the STACK-AUTH.md example shape, parsed by the schema. */
function user(overrides: Record<string, unknown> = {}): StackUser {
  return stackUserSchema.parse({ ...stackUser({ id: ID, primary_email: "test@example.com" }), ...overrides });
}

describe("storedEmail", () => {
  it("trims and lower-cases the email", () => {
    expect(storedEmail(ID, "  John.Smith@Example.COM \t")).toBe("john.smith@example.com");
  });

  it("gives the placeholder <id>@stack-user.invalid when there is no email", () => {
    expect(storedEmail(ID, null)).toBe(`${ID}@stack-user.invalid`);
  });

  it("gives the placeholder when the email is empty or only whitespace", () => {
    expect(storedEmail(ID, "")).toBe(`${ID}@stack-user.invalid`);
    expect(storedEmail(ID, "   ")).toBe(`${ID}@stack-user.invalid`);
  });

  it("uses the reserved .invalid top-level domain for the placeholder", () => {
    expect(PLACEHOLDER_EMAIL_DOMAIN).toBe("stack-user.invalid");
    expect(placeholderEmail("abc")).toBe("abc@stack-user.invalid");
  });
});

describe("planOf", () => {
  it.each(["FREE", "PRO", "ENTERPRISE"])("reads the valid plan %s from server_metadata.plan", (plan) => {
    expect(planOf({ plan })).toBe(plan);
    expect(planOf({ plan, other: 1 })).toBe(plan);
  });

  it.each([
    ["a lower-case plan", { plan: "pro" }],
    ["an unknown plan", { plan: "GOLD" }],
    ["a plan with spaces", { plan: " PRO " }],
    ["a number", { plan: 2 }],
    ["null", { plan: null }],
    ["an object", { plan: { name: "PRO" } }],
    ["an array", { plan: ["PRO"] }],
    ["no plan key", { tier: "PRO" }],
    ["a plan hidden under a JSON __proto__ key", JSON.parse('{"__proto__":{"plan":"PRO"}}') as object],
  ])("gives no plan for %s", (_label, metadata) => {
    expect(planOf(metadata)).toBeUndefined();
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["a string", "PRO"],
    ["a number", 1],
    ["an array", ["PRO"]],
  ])("gives no plan when server_metadata is %s", (_label, metadata) => {
    expect(planOf(metadata)).toBeUndefined();
  });
});

describe("desiredUser", () => {
  it("maps a Stack user to the stored user state", () => {
    const state = desiredUser(
      user({
        primary_email: " Jane@Example.com ",
        display_name: "Jane",
        profile_image_url: "https://example.com/jane.png",
        server_metadata: { plan: "PRO" },
      }),
    );
    expect(state).toEqual({
      id: ID,
      email: "jane@example.com",
      displayName: "Jane",
      avatar: "https://example.com/jane.png",
      plan: "PRO",
    });
  });

  it("uses the placeholder email for a user without one", () => {
    expect(desiredUser(user({ primary_email: null })).email).toBe(`${ID}@stack-user.invalid`);
  });

  it("turns an empty display name into null", () => {
    expect(desiredUser(user({ display_name: "" })).displayName).toBeNull();
  });

  it("keeps a null display name and avatar null", () => {
    const state = desiredUser(user({ display_name: null, profile_image_url: null }));
    expect(state.displayName).toBeNull();
    expect(state.avatar).toBeNull();
  });

  it("keeps a display name with spaces as it is", () => {
    expect(desiredUser(user({ display_name: "  Jane  Doe " })).displayName).toBe("  Jane  Doe ");
  });

  it("leaves the plan undefined when server_metadata has no valid plan", () => {
    expect(desiredUser(user({ server_metadata: { plan: "GOLD" } })).plan).toBeUndefined();
    expect(desiredUser(user({ server_metadata: null })).plan).toBeUndefined();
  });

  it("keeps a data URL avatar whole", () => {
    const avatar = `data:image/png;base64,${"A".repeat(999_978)}`;
    expect(avatar).toHaveLength(1_000_000);
    expect(desiredUser(user({ profile_image_url: avatar })).avatar).toBe(avatar);
  });
});
