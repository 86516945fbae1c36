import type { ProfileInput, ProfileView } from '@mm/client';
import { useState } from 'preact/hooks';
import { uploadPhoto } from '../match-api';
import { apiOrigin, type Session } from '../session';
import { describeError } from '../store';
import { FormError } from './form-error';

interface Props {
  session: Session;
  profile: ProfileView | undefined;
  onSaved: (profile: ProfileView) => void;
}

/** The caller's own profile: what partners unlock, level by level. */
export function ProfileForm({ session, profile, onSaved }: Props) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [draft, setDraft] = useState(() => ({
    display_name: profile?.display_name ?? '',
    gender: profile?.gender ?? '',
    birth_date: profile?.birth_date ?? '',
    city: profile?.city ?? '',
    interests: profile?.interests.join(', ') ?? '',
    bio: profile?.bio ?? '',
  }));
  /** Binds a field to the draft, so a re-render never resets what was typed. */
  const field = (name: keyof typeof draft) => ({
    id: `p-${name}`,
    name,
    value: draft[name],
    onInput: (e: Event) =>
      setDraft((d) => ({ ...d, [name]: (e.currentTarget as HTMLInputElement).value })),
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: keyof typeof draft) => draft[name].trim();
    const input: ProfileInput = {
      display_name: text('display_name'),
      gender: (text('gender') || null) as ProfileInput['gender'],
      birth_date: text('birth_date') || null,
      city: text('city') || null,
      interests: text('interests')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      bio: text('bio') || null,
    };
    setBusy(true);
    setError(undefined);
    try {
      const saved = await session.rest.saveProfile(input);
      const photo = form.get('photo');
      if (photo instanceof File && photo.size > 0) {
        await uploadPhoto(session.token, apiOrigin(), photo);
      }
      onSaved(saved);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel profile" aria-labelledby="profile-title">
      <h2 id="profile-title">{profile ? 'Your profile' : 'Set up your profile'}</h2>
      <p class="muted">
        Your partner sees only “Mystery User” at first; your age and city, photo (blurred),
        interests and finally your name unlock as you talk.
      </p>
      <form class="form" onSubmit={submit}>
        <label for="p-display_name">Display name</label>
        <input {...field('display_name')} required maxLength={50} autoComplete="nickname" />
        <label for="p-gender">Gender</label>
        <select {...field('gender')}>
          <option value="">Prefer not to say</option>
          <option value="female">Female</option>
          <option value="male">Male</option>
          <option value="nonbinary">Non-binary</option>
        </select>
        <label for="p-birth_date">Birth date</label>
        <input {...field('birth_date')} type="date" />
        <label for="p-city">City</label>
        <input {...field('city')} maxLength={100} autoComplete="address-level2" />
        <label for="p-interests">Interests</label>
        <input {...field('interests')} aria-describedby="p-interests-hint" />
        <small id="p-interests-hint" class="muted">
          Separated by commas, e.g. hiking, jazz, cooking
        </small>
        <label for="p-bio">About you</label>
        <textarea {...field('bio')} maxLength={500} rows={3} />
        <label for="p-photo">Photo</label>
        <input id="p-photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp" />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save profile'}
        </button>
        <FormError error={error} />
      </form>
    </section>
  );
}
