// The reference bot `make bench-compare` measures AccessBot against (README "Reading make bench"): Microsoft's
// botbuilder 4.23.3 as its samples use it — CloudAdapter with ConfigurationBotFrameworkAuthentication (auth
// on: every activity's Bot Framework JWT is validated against the channel's OpenID metadata, and replies carry a
// client-credentials token from MSAL), a restify server, ConversationState + UserState on a file storage.
//
// Configuration (environment; accessbench sets it, pointing at its local identity and Connector stubs):
//   PORT (or argv[2])             port to listen on (127.0.0.1)
//   MicrosoftAppId, MicrosoftAppPassword, MicrosoftAppTenantId   the bot's app registration
//   BENCHREF_OPENID_METADATA      the channel's OpenID metadata URL (ToBotFromChannelOpenIdMetadataUrl)
//   BENCHREF_LOGIN_URL            the token authority, https://host:port/tenant (ToChannelFromBotLoginUrl)
//   BENCHREF_DATA                 the file storage's directory
//   NODE_EXTRA_CA_CERTS           (Node's own) the CA of a local https token endpoint
'use strict';

const restify = require('restify');
const {
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConversationState,
    UserState,
} = require('botbuilder');
const { MsalServiceClientCredentialsFactory } = require('botframework-connector');
const { ConfidentialClientApplication } = require('@azure/msal-node');
const { FileStorage } = require('./fileStorage');
const { ReferenceBot } = require('./bot');

function required(name) {
    const v = process.env[name];
    if (!v) {
        throw new Error(`environment variable ${name} is required`);
    }
    return v;
}

const appId = required('MicrosoftAppId');
const loginUrl = required('BENCHREF_LOGIN_URL');
const metadataUrl = required('BENCHREF_OPENID_METADATA');
const port = Number(process.argv[2] || process.env.PORT || 3978);

// The outbound token comes from MSAL, as with botbuilder's default factory. That factory builds its MSAL client
// with nothing but the authority, so for any authority but login.microsoftonline.com MSAL first asks
// login.microsoftonline.com for instance discovery (unreachable here). botbuilder's MsalServiceClientCredentialsFactory
// takes an MSAL client configured by the bot instead; `knownAuthorities` is MSAL's supported setting for an
// authority it need not discover (as for B2C or ADFS).
const msal = new ConfidentialClientApplication({
    auth: {
        clientId: appId,
        clientSecret: required('MicrosoftAppPassword'),
        authority: loginUrl,
        knownAuthorities: [new URL(loginUrl).host],
    },
});
const credentialsFactory = new MsalServiceClientCredentialsFactory(appId, msal);

// Setting any endpoint makes botbuilder use all of them as given (BotFrameworkAuthenticationFactory), so the
// public cloud's values are repeated for the rest.
const auth = new ConfigurationBotFrameworkAuthentication(
    {
        MicrosoftAppId: appId,
        MicrosoftAppType: 'SingleTenant',
        MicrosoftAppTenantId: process.env.MicrosoftAppTenantId,
        ToBotFromChannelOpenIdMetadataUrl: metadataUrl,
        ToBotFromEmulatorOpenIdMetadataUrl: metadataUrl,
        ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
        ToChannelFromBotLoginUrl: loginUrl,
        ToChannelFromBotOAuthScope: 'https://api.botframework.com',
        OAuthUrl: 'https://api.botframework.com',
        CallerId: 'urn:botframework:azure',
        ValidateAuthority: true,
    },
    credentialsFactory,
);
const adapter = new CloudAdapter(auth);

// The samples' handler also sends the user an apology and so answers 200; this one lets the turn fail (500)
// so that the benchmark counts the error.
adapter.onTurnError = async (context, error) => {
    console.error(`[onTurnError] ${error.stack || error}`);
    throw error;
};

const storage = new FileStorage(required('BENCHREF_DATA'));
const bot = new ReferenceBot(new ConversationState(storage), new UserState(storage));

const server = restify.createServer();
server.use(restify.plugins.bodyParser());
server.post('/api/messages', async (req, res) => {
    await adapter.process(req, res, (context) => bot.run(context));
});
server.get('/healthz', (req, res, next) => {
    res.send(200, 'ok');
    return next();
});
server.listen(port, '127.0.0.1', () => {
    console.log(`benchref listening on ${server.url}`);
});
