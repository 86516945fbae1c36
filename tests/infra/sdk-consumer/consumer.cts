// Type-checked against the packed declarations (the `require` condition).
import sdk = require('@mm/client');

const chat = new sdk.ChatClient({ url: 'http://localhost:3000', token: 'token' });
const sent: Promise<import('@mm/contract').MessageView> = chat.send(1, 'hello');
// @ts-expect-error an unknown error code
const status: number = sdk.ERROR_STATUS.NO_SUCH_CODE;
export = { sent, status };
