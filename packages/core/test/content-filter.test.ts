import { AppError } from '../src/errors';
import { ContentFilter, FILTER_MASK } from '../src/text/content-filter';

const masking = new ContentFilter({ mode: 'mask', words: ['grumbleweed', 'bad[word]'] });
const refusing = new ContentFilter({ mode: 'refuse', words: ['grumbleweed'] });

describe('the content filter', () => {
  it('when a message holds a listed word, then a reader sees it masked and the rest as written', () => {
    expect(masking.forReader('oh fuck, the train is late')).toBe(
      `oh ${FILTER_MASK}, the train is late`,
    );
  });

  it("when a word is only the deployment's own, then it is filtered too, its pattern signs taken literally", () => {
    expect(masking.forReader('what a grumbleweed you are')).toBe(`what a ${FILTER_MASK} you are`);
    expect(masking.forReader('a bad[word] here')).toBe(`a ${FILTER_MASK} here`);
    expect(masking.forReader('a badw here')).toBe('a badw here');
  });

  it('when a word is written with fullwidth letters, look-alike Cyrillic or zero-width joiners, then it is found as contact masking would find it, and cut from the original text', () => {
    expect(masking.forReader('you ｆｕｃｋ')).toBe(`you ${FILTER_MASK}`);
    expect(masking.forReader('grumbl\u0435we\u200Bed!')).toBe(`${FILTER_MASK}!`);
  });

  it('when a clean word merely contains a listed one, then it is left alone', () => {
    expect(masking.forReader('the assassin visited Scunthorpe')).toBe(
      'the assassin visited Scunthorpe',
    );
  });

  it('when refusing, then a filtered word throws CONTENT_REFUSED naming the field, clean text passes, and nothing is masked', () => {
    let refused: unknown;
    try {
      refusing.check('bio', 'I am a grumbleweed');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'CONTENT_REFUSED', details: { field: 'bio' } });
    expect(() => refusing.check('bio', 'I like hiking')).not.toThrow();
    expect(refusing.forReader('grumbleweed')).toBe('grumbleweed');
  });

  it('when off, then nothing is filtered or refused', () => {
    const off = new ContentFilter({ mode: 'off', words: ['grumbleweed'] });
    expect(off.forReader('fuck grumbleweed')).toBe('fuck grumbleweed');
    expect(() => off.check('body', 'grumbleweed')).not.toThrow();
  });
});
