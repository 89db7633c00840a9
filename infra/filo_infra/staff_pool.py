"""The staff user pool: email sign-in, MFA, the role groups, the immutable custom:tenant attribute, the hosted UI."""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from chalicelib.domain.access import ROLES


class StaffPool(Construct):
    """Staff are created by an administrator (no self sign-up); their groups are the app's roles."""

    def __init__(self, scope: Construct, id: str, *, prefix: str, removal: RemovalPolicy, console_url: str = ""):
        """console_url: the deployed console (ends with /). When set, the app client also takes the hosted UI's
        authorization-code flow with PKCE, with the console as callback and sign-out URL; the password flow stays."""
        super().__init__(scope, id)
        self.pool = cognito.UserPool(
            self, "Pool",
            user_pool_name=f"{prefix}-staff",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_lowercase=True, require_uppercase=True, require_digits=True, require_symbols=True,
                temp_password_validity=Duration.days(3)),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # the tenant is set by the administrator at creation and can never be changed, by anyone
            custom_attributes={"tenant": cognito.StringAttribute(min_len=1, max_len=64, mutable=False)},
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=removal == RemovalPolicy.RETAIN,
            removal_policy=removal,
        )
        self.client = self.pool.add_client(
            "Console",
            user_pool_client_name=f"{prefix}-console",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=True),  # password over TLS, then the TOTP challenge
            **self._hosted_ui_settings(console_url),
            prevent_user_existence_errors=True,
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True, fullname=True)  # name: the console shows it
            .with_custom_attributes("tenant"),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
            enable_token_revocation=True,
        )
        # the hosted UI (https://<prefix>.auth.<region>.amazoncognito.com): the console signs staff in there
        self.domain = self.pool.add_domain("HostedUi", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix))
        self.console_url = console_url
        for role in ROLES:
            cognito.CfnUserPoolGroup(self, f"Group-{role}", user_pool_id=self.pool.user_pool_id, group_name=role.value,
                                     description=f"Filo Diretto staff role {role}")

    @staticmethod
    def _hosted_ui_settings(console_url: str) -> dict:
        if not console_url:  # the console's address is known after the first deploy (docs/deploy.md)
            return {"disable_o_auth": True}
        urls = [console_url, f"{console_url}index.html"]
        return {"o_auth": cognito.OAuthSettings(
            flows=cognito.OAuthFlows(authorization_code_grant=True),  # a public client: PKCE, as the console does
            scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
            callback_urls=urls, logout_urls=urls)}

    @property
    def hosted_ui_url(self) -> str:
        return self.domain.base_url()

    @property
    def issuer(self) -> str:
        """The ID tokens' iss claim (the pool's ProviderURL attribute lacks the https:// scheme)."""
        stack = Stack.of(self)
        return f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.pool.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"
