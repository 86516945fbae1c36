/* global self, clients */
// The demo's service worker: only push notifications (docs/design.md §9.1). It caches nothing.
// The push's JSON is the server's PushPayload: title and body are shown as sent, already cut to
// what the recipient may see.

self.addEventListener('push', (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    // not JSON: show the generic notice below
  }
  const title = typeof payload.title === 'string' ? payload.title : 'Mystery Match';
  const body = typeof payload.body === 'string' ? payload.body : '';
  event.waitUntil(
    self.registration.showNotification(title, {
      body,
      // One notification per match and kind: a newer push replaces the one still showing.
      tag: payload.match_id !== undefined ? `${payload.kind}-${payload.match_id}` : undefined,
      data: { match_id: payload.match_id },
    }),
  );
});

// A click focuses a tab of the app if one is open, else opens one.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    clients.matchAll({ type: 'window', includeUncontrolled: true }).then((tabs) => {
      const tab = tabs.find((client) => client.url.startsWith(self.registration.scope));
      return tab ? tab.focus() : clients.openWindow(self.registration.scope);
    }),
  );
});
