// The one HTTP client of the web app: JSON requests (and file uploads) to the public REST API
// (/api/v1) with the session cookie, and server errors turned into `ApiError` ({code, message,
// details}).

export interface FieldErrorDetail {
  field: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Per-field errors of a `validation_failed` answer. */
  get fieldErrors(): FieldErrorDetail[] {
    const details = this.details as { fields?: FieldErrorDetail[] } | null;
    return Array.isArray(details?.fields) ? details.fields : [];
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** A multipart body (file uploads) instead of JSON. */
  form?: FormData;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Called when the server says the session is gone (401 on an authenticated call). */
let onUnauthenticated: () => void = () => {};

export function setUnauthenticatedHandler(handler: () => void) {
  onUnauthenticated = handler;
}

/**
 * One path segment from a value (an object name, a record id, a tag): URL-encoded, so that a
 * value from the address bar or from data can never reach another API path (`../users`,
 * `a/b`, `?x=1`). `.` and `..` are refused: URLs treat even their encoded forms as moves.
 */
export function pathSegment(value: string | number): string {
  const text = String(value);
  if (text === '' || text === '.' || text === '..') throw new ApiError(0, 'invalid_path', `not a path segment: "${text}"`, null);
  return encodeURIComponent(text);
}

/** An API path whose interpolated values are path segments: apiPath`/api/v1/objects/${o}/records/${id}`. */
export function apiPath(parts: TemplateStringsArray, ...values: (string | number)[]): string {
  return parts.reduce((out, part, i) => out + part + (i < values.length ? pathSegment(values[i]) : ''), '');
}

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(method: string, path: string, options: RequestOptions): Promise<Response> {
  // X-Requested-With proves to the server that the request comes from this app and not from
  // a form on another site (cross-site request forgery; see the server's `csrf` module).
  const headers: Record<string, string> = { 'X-Rapport-Source': 'ui', 'X-Requested-With': 'XMLHttpRequest', ...options.headers };
  let body: BodyInit | undefined = options.form;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(url(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', (error as Error).message, null);
  }
  if (!response.ok) {
    let payload: { code?: string; message?: string; details?: unknown } = {};
    try {
      payload = await response.json();
    } catch {
      payload = {};
    }
    const error = new ApiError(
      response.status,
      payload.code ?? `http_${response.status}`,
      payload.message ?? response.statusText,
      payload.details ?? null,
    );
    if (response.status === 401 && !path.endsWith('/auth/login')) onUnauthenticated();
    throw error;
  }
  return response;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A non-JSON answer (CSV export) as a Blob. */
export async function requestBlob(method: string, path: string, options: RequestOptions = {}): Promise<Blob> {
  const response = await send(method, path, options);
  return response.blob();
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} }),
  patch: <T>(path: string, body: unknown, headers?: Record<string, string>) =>
    request<T>('PATCH', path, { body, headers }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  delete: <T>(path: string) => request<T>('DELETE', path),
  upload: <T>(path: string, form: FormData) => request<T>('POST', path, { form }),
};
