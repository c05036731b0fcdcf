// The page's side of tests/e2e/test_pusher_js.py: runs the test's commands against pusher-js
// and reports everything pusher-js tells it back to the test's server.
//
//   GET  /command  long poll: {"do": "connect"|"subscribe"|"signin"|"disconnect", ...}; 204 = none yet
//   POST /report   {"seq", "client", "channel", "event", "data"}: one JSON object each
//
// The page holds no logic of the product: who connects, to what, and what must arrive is the
// test's business. pusher-js's own log goes to the test too (event "pusher:log").
"use strict";

(() => {
  const clients = {};
  let seq = 0;

  const plain = (value) => {
    try {
      return JSON.parse(JSON.stringify(value === undefined ? null : value));
    } catch (error) {
      return String(value);
    }
  };

  const report = (client, channel, event, data) =>
    fetch("/report", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ seq: ++seq, client, channel, event, data: plain(data) }),
    }).catch(() => {});  // the test has stopped listening

  Pusher.log = (message) => report(null, null, "pusher:log", String(message));

  const members = (list) => ({ count: list.count, me: list.me, members: list.members });

  const commands = {
    connect({ client, key, options }) {
      const pusher = new Pusher(key, options);
      clients[client] = pusher;
      pusher.connection.bind("state_change", (states) => report(client, null, "state", states.current));
      pusher.connection.bind("connected", () => report(client, null, "connected", pusher.connection.socket_id));
      pusher.connection.bind("error", (error) => report(client, null, "connection:error", error));
      pusher.connection.bind("message", (message) => {
        if (message.event === "pusher:signin_success") report(client, null, "signin_success", message.data);
      });
      pusher.user.bind("pusher:signin_error", (error) => report(client, null, "signin_error", error));
    },
    signin({ client }) {
      clients[client].signin();
    },
    subscribe({ client, channel }) {
      clients[client].subscribe(channel).bind_global((event, data) => {
        const presence = channel.startsWith("presence-") && event === "pusher:subscription_succeeded";
        report(client, channel, event, presence ? members(data) : data);
      });
    },
    disconnect({ client }) {
      clients[client].disconnect();
      delete clients[client];
    },
  };

  const run = async () => {
    for (;;) {
      const response = await fetch("/command");
      if (response.status === 204) continue;
      if (response.status !== 200) return;  // 410: the test is over
      const command = await response.json();
      try {
        commands[command.do](command);
        report(command.client, command.channel || null, "driver:done", command.do);
      } catch (error) {
        report(command.client, command.channel || null, "driver:error", String(error));
      }
    }
  };

  window.addEventListener("error", (event) => report(null, null, "driver:error", String(event.message)));
  report(null, null, "driver:ready", { origin: location.origin });
  run().catch((error) => report(null, null, "driver:error", String(error)));
})();
