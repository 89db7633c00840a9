"""Alarms that page someone: dead letters waiting, function errors and throttles, API server errors."""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

FIVE_MINUTES = Duration.minutes(5)


class Alarms(Construct):
    def __init__(self, scope: Construct, id: str, *, key: kms.Key, data, function_names: dict[str, str],
                 api_name: str, alarm_email: str):
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True,
                               display_name="Filo Diretto alarms")
        # CloudWatch publishes to the encrypted topic, so it must use the key
        key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=["*"]))
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []
        for logical, queue in data.dead_letter_queues.items():
            self._alarm(f"DeadLetters-{logical}", queue.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"), f"messages wait in the {logical} dead-letter queue")
        for function, name in function_names.items():
            for metric in ("Errors", "Throttles"):
                self._alarm(f"{metric}-{function}", cloudwatch.Metric(
                    namespace="AWS/Lambda", metric_name=metric, dimensions_map={"FunctionName": name},
                    period=FIVE_MINUTES, statistic="Sum"), f"{function}: {metric.lower()}")
        self._alarm("Api5xx", cloudwatch.Metric(
            namespace="AWS/ApiGateway", metric_name="5XXError", dimensions_map={"ApiName": api_name},
            period=FIVE_MINUTES, statistic="Sum"), "the API answered with server errors", threshold=5)

    def _alarm(self, id: str, metric: cloudwatch.IMetric, description: str, threshold: int = 1) -> None:
        alarm = cloudwatch.Alarm(
            self, id, metric=metric, threshold=threshold, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING, alarm_description=description)
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
