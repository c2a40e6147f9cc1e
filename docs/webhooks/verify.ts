// Verify a Guild webhook delivery (Standard Webhooks) with Node's crypto only.
//
// Use it in your receiver:
//
//   const payload = verify(["whsec_..."], req.headers, rawBody);
//
// `headers` holds the lower-case header names; `rawBody` is the body exactly
// as received (a Buffer: do not parse and re-serialise it before verifying).
// Pass every secret you currently accept: during a rotation the delivery
// carries one signature per secret, and any one that matches is enough.
//
// Compiled and run as a script, it checks a captured delivery (the JSON file
// the Guild test suite writes): `node verify.js capture.json`.

import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

// Reject deliveries whose timestamp is more than 5 minutes off your clock:
// a captured delivery replayed later fails here even though it is signed.
const TOLERANCE_SECONDS = 5 * 60;

export class InvalidDelivery extends Error {}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string {
  const value = headers[name];
  if (typeof value !== "string") {
    throw new InvalidDelivery(`missing header ${name}`);
  }
  return value;
}

export function verify(
  secrets: string[],
  headers: Headers,
  body: Buffer,
  now: number = Date.now() / 1000,
): unknown {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!/^\d+$/.test(timestamp) || Math.abs(now - Number(timestamp)) > TOLERANCE_SECONDS) {
    throw new InvalidDelivery("timestamp outside the tolerance");
  }
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
  for (const secret of secrets) {
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    const expected = Buffer.from(createHmac("sha256", key).update(signed).digest("base64"));
    for (const signature of signatures.split(" ")) {
      const [version, value] = signature.split(",", 2);
      const given = Buffer.from(value ?? "");
      if (version === "v1" && given.length === expected.length && timingSafeEqual(given, expected)) {
        return JSON.parse(body.toString("utf8"));
      }
    }
  }
  throw new InvalidDelivery("no signature matches");
}

interface Capture {
  secrets: string[];
  headers: Record<string, string>;
  body: string;
  now: number;
}

function main(path: string): void {
  const capture = JSON.parse(readFileSync(path, "utf8")) as Capture;
  const body = Buffer.from(capture.body, "utf8");
  const payload = verify(capture.secrets, capture.headers, body, capture.now) as {
    id: string;
    type: string;
  };
  if (payload.id !== capture.headers["webhook-id"]) {
    throw new Error("the payload id is not the webhook-id");
  }
  // What must fail: an altered body, another secret, a replay 6 minutes later.
  const other = "whsec_" + Buffer.from("another secret, 32 bytes long!!").toString("base64");
  const failures: Array<[string[], Buffer, number]> = [
    [capture.secrets, Buffer.concat([body, Buffer.from(" ")]), capture.now],
    [[other], body, capture.now],
    [capture.secrets, body, capture.now + 6 * 60],
  ];
  for (const [secrets, altered, at] of failures) {
    try {
      verify(secrets, capture.headers, altered, at);
    } catch (e) {
      if (e instanceof InvalidDelivery) continue;
      throw e;
    }
    throw new Error("an invalid delivery verified");
  }
  console.log(`typescript: verified ${payload.type} ${payload.id}`);
}

if (process.argv[2] !== undefined) {
  main(process.argv[2]);
}
