//! Sign-in through the city's identity platform (统一身份认证) with OpenID Connect: the authorization code
//! flow with PKCE (S256). The `openidconnect` crate checks the ID token: issuer, audience, signature by
//! the platform's published keys (JWKS, from its discovery document), nonce and expiry, against the
//! server's clock. The state, verifier and nonce of a sign-in under way are kept in the store and taken
//! once, so a replayed answer finds nothing and any instance can finish what another began. Which
//! account the person is, and whether a first sign-in creates one, is `Auth::oidc_sign_in`'s call.
use crate::store::access::OidcRequest;
use crate::store::{Store, StoreError};
use app::model::Role;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How long a sign-in may stay at the platform before its answer is refused.
pub const REQUEST_MS: i64 = 10 * 60_000;
/// How long the platform's discovery document and keys are trusted before they are read again.
const METADATA_MS: i64 = 60 * 60_000;

/// `[oidc]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// The platform's issuer URL (its discovery document is at `/.well-known/openid-configuration`
    /// under it). Unset: no sign-in through the platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub client_id: String,
    /// From the environment only (`COCKPIT_OIDC_CLIENT_SECRET`).
    #[serde(skip)]
    pub client_secret: Option<String>,
    /// This cockpit's callback as registered with the platform, ending in `/auth/oidc/callback`.
    pub redirect_url: String,
    /// Scopes asked for beside `openid`.
    pub scopes: Vec<String>,
    /// The claim that names the person's account here.
    pub username_claim: String,
    /// A name with no account here: `link` refuses (an administrator creates the account and its
    /// reach), `create` makes one from `role_claim` and `region_claim`.
    pub first_sign_in: FirstSignIn,
    pub role_claim: String,
    pub region_claim: String,
    /// Roles a first sign-in may create, by the names the role claim carries (`street_official`,
    /// `community_staff`, …): never administrators, auditors or city leaders unless listed.
    pub create_roles: Vec<String>,
    /// The sign-in page's button.
    pub label: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FirstSignIn {
    Link,
    Create,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            issuer: None,
            client_id: String::new(),
            client_secret: None,
            redirect_url: String::new(),
            scopes: vec!["profile".into()],
            username_claim: "preferred_username".into(),
            first_sign_in: FirstSignIn::Link,
            role_claim: "cockpit_role".into(),
            region_claim: "cockpit_region".into(),
            create_roles: [Role::StreetOfficial, Role::CommunityStaff, Role::DepartmentStaff].iter().map(|r| r.as_str().to_string()).collect(),
            label: "统一身份认证 · City identity platform".into(),
        }
    }
}

impl OidcConfig {
    /// Whether a set issuer comes with what the flow needs.
    pub fn check(&self) -> Result<(), String> {
        let Some(issuer) = &self.issuer else { return Ok(()) };
        IssuerUrl::new(issuer.clone()).map_err(|e| format!("issuer {issuer:?}: {e}"))?;
        if self.client_id.trim().is_empty() {
            return Err("client_id is needed with an issuer".into());
        }
        if !self.redirect_url.ends_with("/auth/oidc/callback") {
            return Err(format!("redirect_url {:?} must be this cockpit's /auth/oidc/callback", self.redirect_url));
        }
        RedirectUrl::new(self.redirect_url.clone()).map_err(|e| format!("redirect_url: {e}"))?;
        for r in &self.create_roles {
            match Role::parse(r) {
                None => return Err(format!("create_roles: {r:?} is no role (one of city_leader, district_official, street_official, community_staff, department_staff, auditor, admin)")),
                Some(Role::WallDevice) => return Err("create_roles: wall displays get device tokens, not accounts".into()),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Whether a first sign-in may create an account of `role`.
    pub fn may_create(&self, role: Role) -> bool {
        self.create_roles.iter().any(|r| Role::parse(r) == Some(role))
    }
}

/// The claims of an ID token beyond the standard ones (the role and region claims, say).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Extra {
    #[serde(flatten)]
    pub other: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for Extra {}

type Tokens = StandardTokenResponse<IdTokenFields<Extra, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>, CoreTokenType>;
type Client = openidconnect::Client<
    Extra,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Who the platform says the person is, once every check passed.
#[derive(Debug)]
pub struct Identity {
    pub username: String,
    pub subject: String,
    pub name: Option<String>,
    pub claims: HashMap<String, serde_json::Value>,
}

/// Why a sign-in through the platform did not happen. `Refused` carries the reason for the audit log
/// and a short kind for the page.
#[derive(Debug, PartialEq)]
pub enum OidcError {
    /// The platform could not be reached or answered nonsense.
    Unavailable(String),
    Refused { kind: &'static str, reason: String },
}

impl From<StoreError> for OidcError {
    fn from(e: StoreError) -> Self {
        OidcError::Unavailable(format!("store: {e}"))
    }
}

fn refused(kind: &'static str, reason: impl Into<String>) -> OidcError {
    OidcError::Refused { kind, reason: reason.into() }
}

pub struct Oidc {
    cfg: OidcConfig,
    http: reqwest::Client,
    metadata: tokio::sync::RwLock<Option<(CoreProviderMetadata, i64)>>,
}

impl Oidc {
    /// None when no issuer is configured.
    pub fn new(cfg: &OidcConfig) -> Result<Option<Oidc>, String> {
        if cfg.issuer.is_none() {
            return Ok(None);
        }
        cfg.check()?;
        // No redirects: the platform's endpoints answer themselves (a redirect could point anywhere).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        Ok(Some(Oidc { cfg: cfg.clone(), http, metadata: tokio::sync::RwLock::new(None) }))
    }

    pub fn config(&self) -> &OidcConfig {
        &self.cfg
    }

    /// The platform's metadata and keys, read again after an hour (keys rotate) or when forgotten.
    async fn client(&self, now: i64) -> Result<Client, OidcError> {
        let cached = self.metadata.read().await.as_ref().filter(|(_, at)| now - at < METADATA_MS).map(|(m, _)| m.clone());
        let metadata = match cached {
            Some(m) => m,
            None => {
                let issuer = IssuerUrl::new(self.cfg.issuer.clone().unwrap_or_default()).map_err(|e| OidcError::Unavailable(e.to_string()))?;
                let m = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| OidcError::Unavailable(format!("discovery: {e}")))?;
                *self.metadata.write().await = Some((m.clone(), now));
                m
            }
        };
        let redirect = RedirectUrl::new(self.cfg.redirect_url.clone()).map_err(|e| OidcError::Unavailable(e.to_string()))?;
        Ok(Client::from_provider_metadata(metadata, ClientId::new(self.cfg.client_id.clone()), self.cfg.client_secret.clone().map(ClientSecret::new))
            .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: the platform's authorization URL to send the browser to; the state, PKCE
    /// verifier and nonce are kept in the store until the person comes back.
    pub async fn begin(&self, store: &dyn Store, next: &str, now: i64) -> Result<String, OidcError> {
        let client = self.client(now).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random).set_pkce_challenge(challenge);
        for s in &self.cfg.scopes {
            request = request.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = request.url();
        let r = OidcRequest { state: state.secret().clone(), verifier: verifier.secret().clone(), nonce: nonce.secret().clone(), next: next.to_string(), created_at: now };
        store.put_oidc_request(&r, now - REQUEST_MS).await?;
        Ok(url.to_string())
    }

    /// Finishes a sign-in the platform sent back: the state is taken (once), the code exchanged with the
    /// verifier, the ID token checked. Returns who the person is and where they wanted to go.
    pub async fn finish(&self, store: &dyn Store, state: &str, code: &str, now: i64) -> Result<(Identity, String), OidcError> {
        let Some(request) = store.take_oidc_request(state, now - REQUEST_MS).await? else {
            return Err(refused("state", "no sign-in under way with this state (expired, finished already, or never begun here)"));
        };
        let client = self.client(now).await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(request.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| refused("exchange", format!("the code was not exchanged: {e}")))?;
        let id_token = tokens.id_token().ok_or_else(|| refused("exchange", "the platform sent no ID token"))?;
        let at = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
        let verifier = client.id_token_verifier().set_time_fn(move || at);
        let claims = match id_token.claims(&verifier, &Nonce::new(request.nonce.clone())) {
            Ok(c) => c,
            Err(e) => {
                if matches!(e, ClaimsVerificationError::SignatureVerification(_)) {
                    // Perhaps the platform rotated its keys: read them again next time.
                    *self.metadata.write().await = None;
                }
                return Err(refused(kind_of(&e), format!("ID token refused: {e}")));
            }
        };
        let subject = claims.subject().to_string();
        let extra = &claims.additional_claims().other;
        let username = match self.cfg.username_claim.as_str() {
            "preferred_username" => claims.preferred_username().map(|u| u.to_string()),
            "sub" => Some(subject.clone()),
            "email" => claims.email().map(|e| e.to_string()),
            other => extra.get(other).and_then(|v| v.as_str()).map(str::to_string),
        };
        let username = username.map(|u| u.trim().to_string()).filter(|u| !u.is_empty() && u.len() <= 64);
        let Some(username) = username else {
            return Err(refused("claims", format!("the ID token names no account (claim {:?})", self.cfg.username_claim)));
        };
        let name = claims.name().and_then(|n| n.get(None)).map(|n| n.to_string());
        Ok((Identity { username, subject, name, claims: extra.clone() }, request.next))
    }
}

/// The page's short word for a refused ID token.
fn kind_of(e: &ClaimsVerificationError) -> &'static str {
    match e {
        ClaimsVerificationError::Expired(_) => "expired",
        ClaimsVerificationError::InvalidAudience(_) => "audience",
        ClaimsVerificationError::InvalidIssuer(_) => "issuer",
        ClaimsVerificationError::InvalidNonce(_) => "nonce",
        ClaimsVerificationError::SignatureVerification(_) => "signature",
        _ => "token",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issuer_needs_a_client_and_this_cockpits_callback() {
        assert_eq!(OidcConfig::default().check(), Ok(()), "off by default");
        let on = |f: &dyn Fn(&mut OidcConfig)| {
            let mut c = OidcConfig { issuer: Some("https://id.city.gov.cn/realms/staff".into()), client_id: "cockpit".into(), redirect_url: "https://cockpit.city.gov.cn/auth/oidc/callback".into(), ..Default::default() };
            f(&mut c);
            c.check()
        };
        assert_eq!(on(&|_| {}), Ok(()));
        assert!(on(&|c| c.client_id.clear()).unwrap_err().contains("client_id"));
        assert!(on(&|c| c.redirect_url = "https://evil.example/cb".into()).unwrap_err().contains("/auth/oidc/callback"));
        assert!(on(&|c| c.issuer = Some("not a url".into())).unwrap_err().contains("issuer"));
        assert!(on(&|c| c.create_roles.push("wall_device".into())).unwrap_err().contains("wall"));
        assert!(on(&|c| c.create_roles.push("StreetOfficial".into())).unwrap_err().contains("no role"));
        let d = OidcConfig::default();
        assert!(d.may_create(Role::StreetOfficial) && d.may_create(Role::CommunityStaff));
        assert!(!d.may_create(Role::Admin) && !d.may_create(Role::Auditor) && !d.may_create(Role::CityLeader), "never privileged by default");
        let parsed: OidcConfig = toml::from_str("issuer = \"https://id.example\"\nclient_id = \"c\"\nredirect_url = \"https://x/auth/oidc/callback\"\nfirst_sign_in = \"create\"\n").unwrap();
        assert_eq!(parsed.first_sign_in, FirstSignIn::Create);
        assert!(toml::from_str::<OidcConfig>("client_secret = \"in the file\"\n").is_err(), "the secret comes from the environment only");
    }
}
