/**
 * A tiny typed fetch helper over the generated `paths` (src/schema.d.ts).
 *
 *   const api = createClient({ baseUrl: "https://api.example.com", token: () => session.getToken() });
 *   const me = await api.get("/me");                                   // components["schemas"]["MeOut"]
 *   await api.put("/me/preferences", { body: { theme: "dark" } });      // body type-checked
 *   await api.get("/docs/assets/{name}", { path: { name: "swagger-ui.css" } });
 *
 * Paths, path/query parameters, request bodies and success bodies all come from the
 * OpenAPI document; a non-2xx response throws an `ApiError` carrying the API's error
 * envelope `{"error": {"code", "message", "details", "requestId"}}`. No runtime dependency:
 * only `fetch` (browsers, Node >= 18, or pass your own).
 */
import type { components, paths } from "./schema";

export type { components, paths } from "./schema";
export type Schemas = components["schemas"];
export type ErrorEnvelope = Schemas["ErrorEnvelope"];

export type HttpMethod = "get" | "put" | "post" | "patch" | "delete";

/** The operation object of `method` on `path` (never when the path has no such method). */
export type Operation<P extends keyof paths, M extends HttpMethod> = NonNullable<paths[P][M]>;

/** Every path that declares `method`. */
export type PathsWith<M extends HttpMethod> = {
  [P in keyof paths]: [Operation<P, M>] extends [never] ? never : P;
}[keyof paths];

type SuccessStatus = 200 | 201 | 202 | 203 | 204 | 206;

type BodyOf<R> = R extends { content: { "application/json": infer T } }
  ? T
  : R extends { content: { [type: string]: infer T } }
    ? T
    : unknown; // a success the document gives no content for

/** The parsed body of a successful (2xx) response of an operation (undefined for a 204). */
export type SuccessBody<O> = O extends { responses: infer R }
  ? { [S in keyof R]: S extends 204 ? undefined : S extends SuccessStatus ? BodyOf<R[S]> : never }[keyof R]
  : never;

/** The JSON request body of an operation (never when it takes none). */
export type RequestBody<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? B | undefined
    : never;

type Params<O> = O extends { parameters: infer P } ? P : Record<string, never>;

type PathOption<O> = Params<O> extends { path: infer X } ? { path: X } : { path?: never };
type QueryOption<O> = Params<O> extends { query: infer Q }
  ? { query: Q }
  : Params<O> extends { query?: infer Q }
    ? [NonNullable<Q>] extends [never]
      ? { query?: never }
      : { query?: NonNullable<Q> }
    : { query?: never };
type BodyOption<O> = O extends { requestBody: unknown }
  ? { body: RequestBody<O> }
  : O extends { requestBody?: infer B }
    ? [NonNullable<B>] extends [never]
      ? { body?: never }
      : { body?: RequestBody<O> }
    : { body?: never };

/** What a call takes besides the path: exactly the parameters and body the operation declares. */
export type RequestOptions<O> = PathOption<O> &
  QueryOption<O> &
  BodyOption<O> & {
    headers?: Record<string, string>;
    signal?: AbortSignal;
  };

/** The options argument is optional only when nothing in it is required. */
type Args<O> = {} extends RequestOptions<O> ? [options?: RequestOptions<O>] : [options: RequestOptions<O>];

type Token = string | null | undefined;

export interface ClientOptions {
  /** e.g. "https://api.auralumic.example" or "http://localhost:8000"; a trailing slash is ignored. */
  baseUrl: string;
  /** A bearer token, or a function returning one per request (Clerk: `() => session.getToken()`). */
  token?: Token | (() => Token | Promise<Token>);
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Sent with every request (a call's own headers win). */
  headers?: Record<string, string>;
}

/** A non-2xx response. `code` is the API's stable snake_case error code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly requestId: string | undefined;
  /** The parsed response body (the envelope, or whatever a proxy returned instead). */
  readonly body: unknown;
  readonly response: Response;

  constructor(response: Response, body: unknown) {
    const envelope = isErrorEnvelope(body) ? body.error : undefined;
    const code = envelope?.code ?? `http_${response.status}`;
    super(envelope?.message ?? `${response.status} ${response.statusText || "error"}`.trim());
    this.name = "ApiError";
    this.status = response.status;
    this.code = code;
    this.details = envelope?.details ?? {};
    this.requestId = envelope?.requestId ?? undefined;
    this.body = body;
    this.response = response;
  }
}

export function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = (body as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

export function createClient(options: ClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);

  async function request<M extends HttpMethod, P extends PathsWith<M>>(
    method: M,
    path: P,
    ...[init]: Args<Operation<P, M>>
  ): Promise<SuccessBody<Operation<P, M>>> {
    const opts = (init ?? {}) as {
      path?: Record<string, string | number>;
      query?: Record<string, unknown>;
      body?: unknown;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    };
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers, ...opts.headers };
    const token = typeof options.token === "function" ? await options.token() : options.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["Content-Type"] ??= "application/json";
    }
    const response = await doFetch(baseUrl + buildPath(path, opts.path) + buildQuery(opts.query), {
      method: method.toUpperCase(),
      headers,
      body,
      signal: opts.signal,
    });
    const parsed = await parseBody(response);
    if (!response.ok) throw new ApiError(response, parsed);
    return parsed as SuccessBody<Operation<P, M>>;
  }

  return {
    request,
    get: <P extends PathsWith<"get">>(path: P, ...init: Args<Operation<P, "get">>) => request("get", path, ...init),
    put: <P extends PathsWith<"put">>(path: P, ...init: Args<Operation<P, "put">>) => request("put", path, ...init),
    post: <P extends PathsWith<"post">>(path: P, ...init: Args<Operation<P, "post">>) =>
      request("post", path, ...init),
    patch: <P extends PathsWith<"patch">>(path: P, ...init: Args<Operation<P, "patch">>) =>
      request("patch", path, ...init),
    delete: <P extends PathsWith<"delete">>(path: P, ...init: Args<Operation<P, "delete">>) =>
      request("delete", path, ...init),
  };
}

export type Client = ReturnType<typeof createClient>;

function buildPath(template: string, params: Record<string, string | number> | undefined): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new TypeError(`missing path parameter "${name}" for ${template}`);
    return encodeURIComponent(String(value));
  });
}

function buildQuery(query: Record<string, unknown> | undefined): string {
  if (!query) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

async function parseBody(response: Response): Promise<unknown> {
  if (response.status === 204 || response.status === 304) return undefined;
  const text = await response.text();
  if (!text) return undefined;
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("json")) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
