// The CommonJS entry of the packed SDK: `require('@mm/client')`.
const converse = require('./converse.cjs');

const [url, first, second] = process.argv.slice(2);
converse(require('@mm/client'), url, Number(first), Number(second), 'cjs').catch((error) => {
  console.error(error);
  process.exit(1);
});
