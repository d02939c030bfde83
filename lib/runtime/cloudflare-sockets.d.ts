/** The one export of Cloudflare's `cloudflare:sockets` module that the workerd entry uses. */
declare module "cloudflare:sockets" {
  export function connect(address: { hostname: string; port: number }, options?: { secureTransport?: "on" | "off" | "starttls"; allowHalfOpen?: boolean }): unknown;
}
