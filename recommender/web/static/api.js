// Talking to the JSON API of this same server: one fetch wrapper that sends the token, turns the API's
// error shape {"error": {"code", "message"}} into an ApiError, and says in words what a status means.

const TOKEN_KEY = "recommender.token";

/** The token the user entered for this tab ("" if none). sessionStorage: gone when the tab closes. */
export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return ""; // storage disabled: work without a token
  }
}

/** Keep (or with "" forget) the token for this tab. */
export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: nothing to keep
  }
}

/** An answer that was not 2xx, with the API's code and message (or a network failure, status 0). */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * Call the API. `json` sends a JSON body, `form` a FormData (multipart). Resolves to {status, data} for 2xx
 * answers (202 included: the caller polls the job), rejects with ApiError otherwise.
 */
export async function api(path, { method = "GET", json, form, signal } = {}) {
  const headers = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The server could not be reached. Is it still running?");
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || response.statusText,
      error.details,
    );
  }
  return { status: response.status, data };
}

/** A sentence for a person: what went wrong and what to do about it. */
export function describeError(error) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error && error.message ? error.message : error}`;
  switch (error.status) {
    case 0:
      return error.message;
    case 401:
      return `This needs a token (401): ${error.message}. Enter it under “Access token” at the top of the page.`;
    case 403:
      return `The server refused (403): ${error.message}. Check the token under “Access token” at the top of the page.`;
    case 413:
      return `Too big for this server (413): ${error.message}. Split the file, or ask for a larger upload limit.`;
    case 429:
      return `Too many requests (429): wait a moment and try again.`;
    default:
      return `${error.message} (${error.status} ${error.code})`;
  }
}

/** The API path of a paper by id, DOI or PMID: the reference is one encoded segment (DOIs contain "/"). */
export function paperPath(reference, suffix = "") {
  return `/papers/${encodeURIComponent(reference)}${suffix}`;
}

/**
 * Download a file answer of this server (an export) with the token sent, under the name the server gives in
 * Content-Disposition. Resolves to that name; rejects with ApiError as `api` does.
 */
export async function download(path) {
  const headers = {};
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { headers, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, "network", "The server could not be reached. Is it still running?");
  }
  if (!response.ok) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch {
      error = {};
    }
    throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || response.statusText);
  }
  const blob = await response.blob();
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const name = match ? match[1] : "papers.txt";
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}

/** The API path of a collection: its name is one encoded segment. */
export function collectionPath(name, suffix = "") {
  return `/collections/${encodeURIComponent(name)}${suffix}`;
}
