import { useEffect, useState } from 'preact/hooks';
import { partnerPhoto, type DemoMatch } from '../match-api';
import { apiOrigin } from '../session';
import type { DemoStore } from '../store';

const LEVELS = ['Mystery', 'Age and city', 'Blurred photo', 'Interests and bio', 'Everything'];

/** The partner as far as the conversation has unlocked them, and how far the next level is. */
export function PartnerCard({ store, match }: { store: DemoStore; match: DemoMatch }) {
  const partner = match.partner;
  const level = partner.level;
  const next = partner.next_level_at;
  const online = store.presence.get(match.partner_id);
  const photo = usePartnerPhoto(store.session.token, partner.photo_url ?? undefined);

  return (
    <section class="partner" aria-label="Your match" data-level={level}>
      <div class="avatar" data-blur={partner.photo_blur ?? ''}>
        {photo ? (
          <img
            src={photo}
            alt={
              partner.photo_blur
                ? `Partner's photo, ${partner.photo_blur} % blurred`
                : "Partner's photo"
            }
          />
        ) : (
          <span aria-hidden="true">?</span>
        )}
      </div>
      <div class="partner-info">
        <h2 class="partner-name">
          {partner.display_name}
          {online !== undefined && (
            <span class={`presence ${online ? 'on' : 'off'}`}>{online ? 'online' : 'offline'}</span>
          )}
        </h2>
        {(partner.age != null || partner.city) && (
          <p class="partner-facts">
            {[partner.age != null && `${partner.age}`, partner.city].filter(Boolean).join(' · ')}
          </p>
        )}
        {partner.interests && partner.interests.length > 0 && (
          <ul class="tags" aria-label="Interests">
            {partner.interests.map((interest) => (
              <li key={interest}>{interest}</li>
            ))}
          </ul>
        )}
        {partner.bio && <p class="bio">{partner.bio}</p>}
        <p class="level" data-testid="unlock-level">
          <span>
            Level <strong>{level}</strong> of 4: {LEVELS[level]}
          </span>
          <progress
            max={4}
            value={level}
            aria-label={`Unlock level ${level} of 4`}
            aria-valuetext={`Level ${level} of 4`}
          />
          <small class="muted">
            {next === null
              ? 'Fully unlocked'
              : `${Math.max(0, next - match.message_count)} more messages to level ${level + 1}`}
          </small>
        </p>
      </div>
    </section>
  );
}

/** Fetches the photo with the token (an <img> cannot send it) and shows it as an object URL. */
function usePartnerPhoto(token: string, path: string | undefined): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!path) {
      setUrl(undefined);
      return;
    }
    let objectUrl: string | undefined;
    let cancelled = false;
    partnerPhoto(token, apiOrigin(), path).then(
      (blob) => {
        if (cancelled) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      () => setUrl(undefined),
    );
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [token, path]);
  return url;
}
