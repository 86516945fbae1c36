/**
 * What the packed SDK is asked to do from a project outside the workspace: two users sign in,
 * save a profile and are matched; one sends a message over a ChatClient and the other's
 * ChatClient receives it. Takes the SDK module as loaded (by require or by import), so the
 * CommonJS and the ESM entry points run the same conversation. Prints the received message as
 * JSON; throws (exit code 1) on anything else.
 */
module.exports = async function converse(sdk, url, firstId, secondId, label) {
  const { ChatClient, RestClient } = sdk;
  const within = (promise, what) => {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label}: no ${what} within 20 s`)), 20_000);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  };
  const signIn = async (id) => {
    const token = await new RestClient(url, () => undefined).devToken(id);
    const rest = new RestClient(url, () => token);
    await rest.saveProfile({ display_name: `${label} ${id}` });
    return { id, token, rest };
  };
  const [ann, bob] = await Promise.all([signIn(firstId), signIn(secondId)]);

  const bobChat = new ChatClient({ url, token: bob.token });
  const bobReady = new Promise((resolve) => bobChat.on('ready', resolve));
  bobChat.connect();
  await within(bobReady, 'ready');
  const bobMatched = new Promise((resolve) => bobChat.on('match', resolve));
  const received = new Promise((resolve) =>
    bobChat.on('message', (message) => message.sender_id === ann.id && resolve(message)),
  );

  const match = await ann.rest.findMatch(ann.id);
  if (match.partner_id !== bob.id) throw new Error(`${label}: matched with ${match.partner_id}`);
  await within(bobMatched, 'match');

  const annChat = new ChatClient({ url, token: () => Promise.resolve(ann.token) }).connect();
  try {
    const sent = await within(annChat.send(match.id, `hello from ${label}`), 'ack');
    const got = await within(received, 'message');
    if (got.seq !== sent.seq || got.body !== sent.body) {
      throw new Error(`${label}: sent ${JSON.stringify(sent)}, got ${JSON.stringify(got)}`);
    }
    process.stdout.write(`${JSON.stringify(got)}\n`);
  } finally {
    annChat.close();
    bobChat.close();
  }
};
