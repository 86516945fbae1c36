import { ProfileRefs } from '../src/profiles/profile-refs';

describe('profile refs (discovery names profiles per viewer)', () => {
  const refs = new ProfileRefs('a-test-secret-that-is-long-enough');

  it('when a viewer is given a ref, then it resolves for that viewer only, and is the same every time', () => {
    const ref = refs.ref(7, 12345);
    expect(refs.resolve(7, ref)).toBe(12345);
    expect(refs.ref(7, 12345)).toBe(ref);
    expect(refs.resolve(8, ref)).toBeUndefined();
    expect(refs.ref(8, 12345)).not.toBe(ref);
  });

  it('when a ref is altered, forged or made with another secret, then it resolves to nothing', () => {
    const ref = refs.ref(7, 12345);
    const flipped = Buffer.from(ref, 'base64url');
    flipped[14] = flipped[14]! ^ 1;
    expect(refs.resolve(7, flipped.toString('base64url'))).toBeUndefined();
    expect(refs.resolve(7, '12345')).toBeUndefined();
    expect(
      refs.resolve(7, new ProfileRefs('another-secret-entirely').ref(7, 12345)),
    ).toBeUndefined();
  });
});
