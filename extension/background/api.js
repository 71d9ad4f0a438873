"use strict";
// The only code that talks to the network. Every call goes to the configured server's /api/v1.

class ApiError extends Error {
  // kind: "offline" (unreachable, timeout, 5xx gateway), "unauthorized" (401: the server refused
  //       the token), "challenged" (any other 401: a proxy or gateway in front of the server wants
  //       other credentials, or the token did not reach the server), "unconfigured",
  //       "client" (other 4xx: the request itself is wrong), "server" (other 5xx)
  constructor(kind, message, status = 0, body = null) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.body = body;
  }
  get retryable() {
    return this.kind === "offline" || this.kind === "server" || this.status === 408 || this.status === 429;
  }
}

let onApiSuccess = () => {}; // set by outbox.js: a good answer means queued logs can go now

async function apiRequest(method, path, options = {}) {
  const stored = options.server === undefined;
  const settings = stored ? await getSettings() : null;
  const server = stored ? settings.server : options.server;
  const token = options.token !== undefined ? options.token : settings?.token;
  const auth = options.auth !== false;
  if (auth && !token) throw new ApiError("unconfigured", "This browser is not connected to a server yet");

  const headers = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (auth) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(server + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "omit",
      cache: "no-store",
      signal: AbortSignal.timeout(options.timeoutMs || 10000),
    });
  } catch (err) {
    throw new ApiError("offline", `Cannot reach ${server} (${err.name === "TimeoutError" ? "timed out" : "no answer"})`);
  }
  let body = null;
  if (response.status !== 204) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  if (response.ok) {
    if (stored && auth && !options.fromOutbox) onApiSuccess();
    return body;
  }
  const message = (isPlainObject(body) && typeof body.message === "string" && body.message) || `HTTP ${response.status}`;
  if (response.status === 401) {
    const verdict = tokenVerdict(response.headers.get("WWW-Authenticate"));
    if (auth && verdict === "refused") {
      // A revoked device (perhaps a lost one): forget the token and the cached ledger data; the
      // overlay then asks to reconnect. Queued logs stay, to be delivered after pairing again.
      if (stored && options.token === undefined) await forgetToken(token);
      throw new ApiError("unauthorized", message, 401, body);
    }
    // Not our server refusing the token: a proxy or single sign-on gateway in front of it, which
    // pairing again would not get past. The token, the cache and the outbox stay.
    if (auth && verdict === "missing") {
      throw new ApiError("challenged", "The server got no token from this browser (HTTP 401): a proxy in front of it may remove the Authorization header", 401, body);
    }
    if (auth || !verdict) throw new ApiError("challenged", "The server (or a proxy in front of it) asked for other credentials (HTTP 401)", 401, body);
  }
  if ([502, 503, 504].includes(response.status)) throw new ApiError("offline", `${server} is not answering (${response.status})`, response.status, body);
  throw new ApiError(response.status >= 500 ? "server" : "client", message, response.status, body);
}

// A WWW-Authenticate header's challenges (RFC 9110 11.6.1), schemes and parameter names in
// lower case: 'Basic realm="x", Bearer error=invalid_token' -> [{scheme: "basic", params: {realm:
// "x"}}, {scheme: "bearer", params: {error: "invalid_token"}}]. Reading stops at anything else.
const CHALLENGE_PART = /[\s,]*(?:([\w!#$%&'*+.^`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[\w!#$%&'*+.^`|~-]+)|([\w!#$%&'*+.^`|~/-]+=*)(?=[\s,]|$))/y;
function authChallenges(header) {
  const text = String(header || "");
  const challenges = [];
  CHALLENGE_PART.lastIndex = 0;
  let match;
  while (CHALLENGE_PART.lastIndex < text.length && (match = CHALLENGE_PART.exec(text))) {
    const [whole, name, value, bare] = match;
    const current = challenges[challenges.length - 1];
    if (name !== undefined) {
      if (!current) break; // a parameter before any scheme
      const unquoted = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, "$1") : value;
      current.params[name.toLowerCase()] ??= unquoted;
    } else if (current && !current.token68 && !Object.keys(current.params).length && !whole.includes(",")) {
      current.token68 = bare; // "Negotiate abc==": the scheme's data, not a scheme
    } else if (/^[\w!#$%&'*+.^`|~-]+$/.test(bare)) {
      challenges.push({ scheme: bare.toLowerCase(), params: {} });
    } else break;
  }
  return challenges;
}

// What a 401 says of the token, from our server's own challenge (its realm: a gateway that checks
// bearer tokens itself may refuse ours with invalid_token too): "refused", "missing" (none came),
// or null (someone else's challenge).
function tokenVerdict(header) {
  const ours = authChallenges(header).filter((c) => c.scheme === "bearer" && c.params.realm === "strongties");
  if (ours.some((c) => c.params.error?.toLowerCase() === "invalid_token")) return "refused";
  return ours.some((c) => !c.params.error) ? "missing" : null;
}

function forgetToken(token) {
  return serial("settings", async () => {
    const current = await getSettings();
    if (current.token && current.token === token) {
      await browser.storage.local.set({ settings: { ...current, token: "", revoked: true } });
      await resetCache();
    }
  });
}

// Health (no auth) then, with a token, the device list (proves the token works).
async function checkConnection(server, token) {
  const health = await apiRequest("GET", "/api/v1/health", { server, auth: false, timeoutMs: 6000 });
  if (!isPlainObject(health) || health.status !== "ok") throw new ApiError("client", `${server} does not look like a Strong Ties server`);
  if (!token) return { health, device: null };
  const body = await apiRequest("GET", "/api/v1/devices", { server, token, timeoutMs: 6000 });
  const devices = isPlainObject(body) && Array.isArray(body.devices) ? body.devices : [];
  return { health, device: devices.find((d) => d && d.current) || null };
}
