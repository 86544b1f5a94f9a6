import styles from "./status.module.css";

/** The sign-in form: a plain HTML form posting to /api/admin/session, which sets the session cookie. */
export function SignIn({ failed, tokenConfigured }: { failed: boolean; tokenConfigured: boolean }) {
  return (
    <main className={`${styles.page} ${styles.narrow}`}>
      <h1>stack-sync</h1>
      {tokenConfigured ? (
        <form method="post" action="/api/admin/session" className={styles.form}>
          <label htmlFor="token">Admin token</label>
          <input id="token" name="token" type="password" autoComplete="current-password" required />
          <button type="submit">Open the status page</button>
          {failed && (
            <p className={styles.bad} role="alert">
              That token is not right.
            </p>
          )}
        </form>
      ) : (
        <p className={styles.bad}>
          The status page is closed: set <code>ADMIN_TOKEN</code> (16 characters or more) and restart.
        </p>
      )}
    </main>
  );
}
