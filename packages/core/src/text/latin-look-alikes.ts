/**
 * Letters of other scripts that pass for Latin ones, mapped to the Latin letter they pass for, so
 * `іnstаgrаm` written with Cyrillic і and а reads as `instagram` to a rule. NFKC has already
 * folded the fullwidth, mathematical, circled and small-capital compatibility forms; these are the
 * look-alikes it leaves alone because they are letters of their own.
 *
 * A small table of our own, not Unicode's whole confusables list (nor a package built on it such
 * as `unhomoglyph`): that list maps to a visual "skeleton" meant for comparing two strings, not to
 * text a rule can read. It turns `m` into `rn`, `0` into `O`, `1` into `l`, and the Arabic-Indic
 * five `٥` into `o`, which would hide the very digits and words we look for. This table takes from
 * it only single letters that stand for one Latin letter, from the scripts people use to disguise
 * words (Cyrillic, Greek, Armenian, IPA): enough for the platform names, `at`, `dot` and top-level
 * domains that the contact rules look for. Latin-on-Latin tricks (`I` for `l`, `0` for `o`, `vv`
 * for `w`) are not mapped: folding them would change ordinary words.
 */
const PAIRS: Record<string, string> = {
  a: 'аαɑ', // Cyrillic а, Greek alpha, Latin alpha
  b: 'ЬƄ', // Cyrillic soft sign (capital), Latin tone six
  c: 'сϲᴄ', // Cyrillic с, Greek lunate sigma, small capital C
  d: 'ԁ', // Cyrillic komi de
  e: 'еҽ', // Cyrillic е, Cyrillic abkhasian che
  g: 'ɡց', // Latin script g, Armenian co
  h: 'һհ', // Cyrillic shha, Armenian ho
  i: 'іιıɩɪ', // Cyrillic і, Greek iota, dotless i, Latin iota, small capital I
  j: 'јϳ', // Cyrillic је, Greek yot
  k: 'кκĸ', // Cyrillic к, Greek kappa, kra
  l: 'ӏ', // Cyrillic palochka
  m: 'м', // Cyrillic м
  n: 'ոηп', // Armenian vo, Greek eta, Cyrillic пе
  o: 'оοσօ', // Cyrillic о, Greek omicron and sigma, Armenian oh
  p: 'рρ', // Cyrillic р, Greek rho
  q: 'ԛ', // Cyrillic qa
  r: 'гᴦ', // Cyrillic ге, small capital gamma
  s: 'ѕ', // Cyrillic dze
  t: 'тτ', // Cyrillic те, Greek tau
  u: 'υս', // Greek upsilon, Armenian se
  v: 'νѵ', // Greek nu, Cyrillic izhitsa
  w: 'ԝѡω', // Cyrillic we, omega, Greek omega
  x: 'хχ', // Cyrillic ха, Greek chi
  y: 'уүγ', // Cyrillic у and straight u, Greek gamma
  A: 'АΑ',
  B: 'ВΒ',
  C: 'СϹ',
  E: 'ЕΕ',
  H: 'НΗ',
  I: 'ІΙӀ',
  J: 'Ј',
  K: 'КΚ',
  M: 'МΜ',
  N: 'Ν',
  O: 'ОΟՕ',
  P: 'РΡ',
  Q: 'Ԛ',
  S: 'Ѕ',
  T: 'ТΤ',
  W: 'Ԝ',
  X: 'ХΧ',
  Y: 'УΥҮ',
  Z: 'Ζ',
};

export const LATIN_LOOK_ALIKES: ReadonlyMap<string, string> = new Map(
  Object.entries(PAIRS).flatMap(([latin, lookAlikes]) =>
    [...lookAlikes].map((lookAlike) => [lookAlike, latin] as const),
  ),
);
