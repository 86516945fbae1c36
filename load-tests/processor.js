// Artillery hooks for the REST lifecycle scenario: fresh user ids per virtual user, so runs never
// trip over each other's daily limits or matches.
let next = 2_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1_000;

module.exports = {
  assignUsers(context, _events, done) {
    context.vars.partnerId = next++;
    context.vars.userId = next++;
    done();
  },
};
