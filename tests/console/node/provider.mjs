// A real OpenID Connect provider (the npm package oidc-provider) for the console's login
// tests, on loopback only. Usage: node provider.mjs PORT REDIRECT_URI CLIENT_SECRET
// The development sign-in pages of the package take any login name as the account id; the
// account's roles come from ACCOUNTS below and reach the console as the `roles` claim.
import Provider from 'oidc-provider';

const [port, redirectUri, clientSecret] = process.argv.slice(2);
if (!port || !redirectUri || !clientSecret) {
  console.error('usage: node provider.mjs PORT REDIRECT_URI CLIENT_SECRET');
  process.exit(2);
}

const ACCOUNTS = {
  clerk: { name: 'Klara Kanslist', roles: ['clerk'] },
  privileged: { name: 'Petra Privilegierad', roles: ['clerk', 'privileged'] },
  visitor: { name: 'Ville Besökare', roles: [] },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'sweid-console',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri.replace(/inloggad$/, 'utloggad')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: { openid: ['sub'], profile: ['name'], roles: ['roles'] },
  scopes: ['openid', 'profile', 'roles'],
  cookies: { keys: ['sweid-console-test-cookie-key'] },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() { return { sub: id, name: account.name, roles: account.roles }; },
    };
  },
});
provider.proxy = false;

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
