"""Optional WAF in front of the API: AWS managed rules and a per-IP rate limit that spares Meta's webhooks."""
from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

WEBHOOK_PATH = "/api/webhooks/"  # the stage name is part of the URI WAF sees


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True)


def _managed(priority: int, name: str, overrides: tuple[str, ...] = ()) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name, priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
            vendor_name="AWS", name=name,
            rule_action_overrides=[wafv2.CfnWebACL.RuleActionOverrideProperty(
                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})) for rule in overrides] or None)),
        visibility_config=_visibility(name))


def _rate_limit(priority: int, limit: int) -> wafv2.CfnWebACL.RuleProperty:
    not_webhooks = wafv2.CfnWebACL.StatementProperty(not_statement=wafv2.CfnWebACL.NotStatementProperty(
        statement=wafv2.CfnWebACL.StatementProperty(byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="STARTS_WITH", search_string=WEBHOOK_PATH,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")]))))
    return wafv2.CfnWebACL.RuleProperty(
        name="PerIpRateLimit", priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
            limit=limit, aggregate_key_type="IP", evaluation_window_sec=300, scope_down_statement=not_webhooks)),
        visibility_config=_visibility("PerIpRateLimit"))


class ApiFirewall(Construct):
    def __init__(self, scope: Construct, id: str, *, rest_api_id: str, api_stage: str, stage_resource: str,
                 rate_limit: int):
        super().__init__(scope, id)
        acl = wafv2.CfnWebACL(
            self, "WebAcl", scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("FiloDirettoApi"),
            rules=[
                # Meta batches up to 1,000 statuses per webhook POST: bodies over 8 KB are normal here
                _managed(0, "AWSManagedRulesCommonRuleSet", overrides=("SizeRestrictions_BODY",)),
                _managed(1, "AWSManagedRulesKnownBadInputsRuleSet"),
                _managed(2, "AWSManagedRulesAmazonIpReputationList"),
                _rate_limit(3, rate_limit),
            ],
        )
        stack = Stack.of(self)
        stage_arn = f"arn:{stack.partition}:apigateway:{stack.region}::/restapis/{rest_api_id}/stages/{api_stage}"
        association = wafv2.CfnWebACLAssociation(self, "Association", resource_arn=stage_arn, web_acl_arn=acl.attr_arn)
        # the stage exists only once SAM has expanded the Chalice API: name it as a dependency by its SAM id
        association.add_override("DependsOn", [stage_resource])
        self.acl = acl
        self.association = association
