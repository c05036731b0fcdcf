/**
 * Not shipped: `npm run typecheck` compiles this file so the generated types are proven
 * usable (and strict) on every `make client` / `make client-check`. Each `@ts-expect-error`
 * fails the type check if the line it guards ever stops being an error.
 */
import { ApiError, createClient, type Schemas } from "./client";

type IsAny<T> = 0 extends 1 & T ? true : false;

const api = createClient({
  baseUrl: "http://localhost:8000",
  token: async () => "a-clerk-session-token",
});

export async function example(): Promise<void> {
  const me = await api.get("/me");
  me satisfies Schemas["MeOut"];
  me.credits satisfies number;
  me.balance.available satisfies number;
  me.role satisfies "client" | "reader" | "admin";
  me.displayName satisfies string | null | undefined;
  false satisfies IsAny<typeof me>;
  // @ts-expect-error credits are numbers, not strings
  me.balance.held satisfies string;

  const saved = await api.put("/me/preferences", {
    body: { theme: "dark", notifications: { marketingEmails: false }, timezone: "Europe/Paris" },
  });
  saved satisfies Schemas["PreferencesOut"];
  saved.theme satisfies "light" | "dark" | "auto" | undefined;
  saved.updatedAt satisfies string | null | undefined;
  false satisfies IsAny<typeof saved>;

  // Every field of the PUT body has a default, so an empty document is valid.
  await api.put("/me/preferences", { body: {} });
  // @ts-expect-error PUT /me/preferences needs a body
  await api.put("/me/preferences");
  // @ts-expect-error not a theme
  await api.put("/me/preferences", { body: { theme: "purple" } });
  // @ts-expect-error unknown field (the API answers 400)
  await api.put("/me/preferences", { body: { credits: 100 } });
  // @ts-expect-error no such path
  await api.get("/nope");
  // @ts-expect-error /me/preferences has no DELETE
  await api.delete("/me/preferences");

  await api.get("/docs/assets/{name}", { path: { name: "swagger-ui.css" } });
  // @ts-expect-error the path parameter is required
  await api.get("/docs/assets/{name}");

  try {
    await api.patch("/me", { body: { displayName: "Ada" } });
  } catch (error) {
    if (error instanceof ApiError) {
      error.status satisfies number;
      error.code satisfies string;
      error.details satisfies Record<string, unknown>;
    }
  }
}
