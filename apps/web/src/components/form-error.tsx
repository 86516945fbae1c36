/** A form's failure, announced to screen readers as it appears; nothing while there is none. */
export function FormError({ error }: { error: string | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}
