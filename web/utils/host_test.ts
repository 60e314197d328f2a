import assert from "node:assert/strict";
import { isAllowedHost, isLoopbackHost, serverUrl } from "./host.ts";

Deno.test("isAllowedHost: localhost names and the bound address, with the bound port", () => {
  const local = { hostname: "127.0.0.1", port: 8000 };
  for (const h of ["localhost:8000", "LocalHost:8000", "localhost.:8000", "127.0.0.1:8000"]) {
    assert.equal(isAllowedHost(h, local), true, h);
  }
  assert.equal(isAllowedHost("[::1]:8000", local), true);
  for (
    const h of [
      "evil.example:8000",
      "localhost.evil.example:8000",
      "127.0.0.1.nip.io:8000",
      "localhost:8001",
      "localhost", // port 80
      "[::1]",
      "",
      "localhost:8000:1",
      "[::1:8000",
      "192.168.1.5:8000", // not the bound interface
    ]
  ) {
    assert.equal(isAllowedHost(h, local), false, h);
  }
  const v6 = { hostname: "::1", port: 9000 };
  assert.equal(isAllowedHost("[::1]:9000", v6), true);
  assert.equal(isAllowedHost("[::1]:8000", v6), false);
  const lan = { hostname: "192.168.1.5", port: 8000 };
  assert.equal(isAllowedHost("192.168.1.5:8000", lan), true);
  assert.equal(isAllowedHost("10.0.0.1:8000", lan), false);
  const any = { hostname: "0.0.0.0", port: 8000 };
  assert.equal(isAllowedHost("10.0.0.1:8000", any), true);
  assert.equal(isAllowedHost("[fe80::1]:8000", any), true);
  assert.equal(isAllowedHost("evil.example:8000", any), false);
  // A handler called without a bound port (tests) accepts any port of a localhost name.
  assert.equal(isAllowedHost("localhost:1234"), true);
  assert.equal(isAllowedHost("evil.example"), false);
});

Deno.test("isLoopbackHost and serverUrl", () => {
  assert.equal(isLoopbackHost("127.1.2.3"), true);
  assert.equal(isLoopbackHost("localhost"), true);
  assert.equal(isLoopbackHost("::"), false);
  assert.equal(serverUrl("[::1]", 8000), "http://[::1]:8000/");
  assert.equal(serverUrl("0.0.0.0", 8000), "http://0.0.0.0:8000/");
});
