"""The staff user pool: email sign-in, MFA, the role groups and the immutable custom:tenant attribute."""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from chalicelib.api.auth import ROLES


class StaffPool(Construct):
    """Staff are created by an administrator (no self sign-up); their groups are the app's roles."""

    def __init__(self, scope: Construct, id: str, *, prefix: str, removal: RemovalPolicy):
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
            prevent_user_existence_errors=True,
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True)
            .with_custom_attributes("tenant"),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
            enable_token_revocation=True,
        )
        for role in sorted(ROLES):
            cognito.CfnUserPoolGroup(self, f"Group-{role}", user_pool_id=self.pool.user_pool_id, group_name=role,
                                     description=f"Filo Diretto staff role {role}")

    @property
    def issuer(self) -> str:
        """The ID tokens' iss claim (the pool's ProviderURL attribute lacks the https:// scheme)."""
        stack = Stack.of(self)
        return f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.pool.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"
