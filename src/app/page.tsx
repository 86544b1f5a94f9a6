export default function Home() {
  return (
    <main>
      <h1>stack-sync</h1>
      <p>
        Webhook endpoint: <code>POST /api/webhooks/stack/user/sync</code>
      </p>
    </main>
  );
}
