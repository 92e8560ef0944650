"""Every rule: the compliant stack passes, and each mutation fails with exactly the expected
violations (policy, resource) and a message naming the problem and the fix."""

from __future__ import annotations

import base64
import json

import pytest

from policies.registry import RULES_BY_NAME

from .stack import (
    ACCOUNT,
    LIFECYCLE,
    REGION,
    SECRET,
    add,
    all_mandatory,
    container,
    drop,
    edited,
    json_doc,
    remove,
    set_,
    statement,
)

TASK, SERVICE, REPO = "prod-api-task", "prod-api-service", "prod-api-repository"
# Unreadable containers reference no secrets, so the execution role's two secret grants are unreferenced too.
UNREAD_CONTAINERS = [("aws-ecs-task-definition-valid-containers", TASK)] + [("aws-iam-execution-role-secrets-scoped", "prod-api-exec-role")] * 2
PLAIN = "aws-secrets-no-plaintext-values"
INSTANCE = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}, "rootBlockDevice": {"encrypted": True}, "associatePublicIpAddress": False}
ORDERS = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
ECS_CONDITION = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def trust_policy(principal, condition=None, action="sts:AssumeRole", role="prod-api-task-role"):
    """Replaces a role's trust policy by one statement."""
    statement = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return set_(role, "assumeRolePolicy", json_doc([statement]))


def lifecycle(mutate) -> str:
    doc = json.loads(LIFECYCLE)
    mutate(doc["rules"])
    return json.dumps(doc)


def containers_text(change):
    """Edits the task definition's containerDefinitions as text (for spellings json.dumps cannot write)."""
    return lambda stack: stack[TASK]["props"].update(containerDefinitions=change(stack[TASK]["props"]["containerDefinitions"]))


def sidecar(changes: dict):
    """Adds a second, otherwise compliant container to the task definition."""
    def edit(stack):
        containers = json.loads(stack[TASK]["props"]["containerDefinitions"])
        extra = {key: value for key, value in containers[0].items() if key not in ("secrets", "environment")}
        extra.update(image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/prod/agent:v2.1.0", essential=False, **changes)
        stack[TASK]["props"]["containerDefinitions"] = json.dumps([*containers, extra])
    return edit


def case(id_, edits, expected, fragment):
    return pytest.param(edits, expected, fragment, id=id_)


CASES = [
    # ---- ECR
    case("scan-off", [set_(REPO, "imageScanningConfiguration.scanOnPush", False)], [("aws-ecr-repository-scan-on-push", REPO)], "not scanned on push"),
    case("scan-basic-registry", [set_(REPO, "imageScanningConfiguration.scanOnPush", False),
                                 add("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "prod-registry-scanning", {"scanType": "BASIC", "rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]})],
         [("aws-ecr-repository-scan-on-push", REPO)], "no ENHANCED registry scanning rule"),
    case("scan-enhanced-other-filter", [set_(REPO, "imageScanningConfiguration.scanOnPush", False),
                                        add("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "prod-registry-scanning", {"scanType": "ENHANCED", "rules": [{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "staging/*", "filterType": "WILDCARD"}]}]})],
         [("aws-ecr-repository-scan-on-push", REPO)], "not scanned on push"),
    case("tags-mutable", [set_(REPO, "imageTagMutability", "MUTABLE")], [("aws-ecr-repository-immutable-tags", REPO)], "imageTagMutability is MUTABLE. Fix: set imageTagMutability: IMMUTABLE"),
    case("tags-default", [drop(REPO, "imageTagMutability")], [("aws-ecr-repository-immutable-tags", REPO)], "imageTagMutability is MUTABLE"),
    case("lifecycle-missing", [remove("prod-api-lifecycle")], [("aws-ecr-repository-lifecycle-policy", REPO)], "has no lifecycle policy"),
    case("lifecycle-not-json", [set_("prod-api-lifecycle", "policy", "{rules")], [("aws-ecr-repository-lifecycle-policy", REPO)], "not a JSON object"),
    case("lifecycle-no-untagged", [set_("prod-api-lifecycle", "policy", lifecycle(lambda rules: rules.pop()))], [("aws-ecr-repository-lifecycle-policy", REPO)], "no rule expires untagged images"),
    case("lifecycle-tagged-no-prefix", [set_("prod-api-lifecycle", "policy", lifecycle(lambda rules: rules[0]["selection"].pop("tagPrefixList")))], [("aws-ecr-repository-lifecycle-policy", REPO)], "rule 1: a tagged selection needs tagPrefixList"),
    case("lifecycle-duplicate-priority", [set_("prod-api-lifecycle", "policy", lifecycle(lambda rules: rules[1].update(rulePriority=1)))], [("aws-ecr-repository-lifecycle-policy", REPO)], "rulePriority values [1, 1]"),
    case("lifecycle-bad-count-type", [set_("prod-api-lifecycle", "policy", lifecycle(lambda rules: rules[0]["selection"].update(countType="imageCountLessThan")))], [("aws-ecr-repository-lifecycle-policy", REPO)], "rule 1: countType must be one of"),
    case("kms-aes", [set_(REPO, "encryptionConfigurations", [{"encryptionType": "AES256"}])], [("aws-ecr-repository-kms-encryption", REPO)], "encryption is AES256, not KMS"),
    case("kms-default", [drop(REPO, "encryptionConfigurations")], [("aws-ecr-repository-kms-encryption", REPO)], "AES256 (the default)"),
    case("repo-policy-star", [set_("prod-api-repository-policy", "policy", json.dumps({"Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}))],
         [("aws-ecr-repository-policy-no-public-principal", "prod-api-repository-policy")], "statement 'Public' allows Principal '*' (anyone with AWS credentials) without a condition on the caller's account, organization or network"),
    case("repo-policy-aws-star", [set_("prod-api-repository-policy", "policy", json.dumps({"Statement": [{"Sid": "Any", "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "ecr:*"}]}))],
         [("aws-ecr-repository-policy-no-public-principal", "prod-api-repository-policy")], "statement 'Any' allows"),
    case("registry-policy-star", [add("aws:ecr/registryPolicy:RegistryPolicy", "prod-registry-policy", {"policy": json_doc([{"Sid": "Replicate", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"], "Resource": "*"}])})],
         [("aws-ecr-repository-policy-no-public-principal", "prod-registry-policy")], "statement 'Replicate' allows Principal 'arn:aws:iam::*:root'"),
    case("repo-policy-not-principal", [set_("prod-api-repository-policy", "policy", json_doc([{"Sid": "Others", "Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "ecr:BatchGetImage"}]))],
         [("aws-ecr-repository-policy-no-public-principal", "prod-api-repository-policy")], "statement 'Others' allows NotPrincipal"),
    case("repo-policy-condition-if-exists", [set_("prod-api-repository-policy", "policy", json_doc([{"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage", "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}}]))],
         [("aws-ecr-repository-policy-no-public-principal", "prod-api-repository-policy")], "statement 'Org' allows Principal '*'"),
    case("exclusion-of-every-tag", [set_(REPO, "imageTagMutability", "IMMUTABLE_WITH_EXCLUSION"), set_(REPO, "imageTagMutabilityExclusionFilters", [{"filter": "*", "filterType": "WILDCARD"}])],
         [("aws-ecr-repository-immutable-tags", REPO)], "IMMUTABLE_WITH_EXCLUSION excludes every tag (filter '*'), so all tags are mutable"),
    case("mutable-with-exclusion", [set_(REPO, "imageTagMutability", "MUTABLE_WITH_EXCLUSION")], [("aws-ecr-repository-immutable-tags", REPO)], "imageTagMutability is MUTABLE_WITH_EXCLUSION"),
    # ---- KMS, S3, Secrets Manager
    case("kms-rotation-off", [set_("prod-exec-key", "enableKeyRotation", False)], [("aws-kms-key-rotation", "prod-exec-key")], "prod-exec-key: enableKeyRotation is off"),
    case("kms-rotation-unset", [drop("prod-exec-key", "enableKeyRotation")], [("aws-kms-key-rotation", "prod-exec-key")], "enableKeyRotation is off"),
    case("kms-policy-anyone", [set_("prod-exec-key", "policy", json_doc([{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}, {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": "*"}]))],
         [("aws-kms-key-policy-principals", "prod-exec-key")], "statement 'Use' allows Principal '*' (anyone with AWS credentials)"),
    case("kms-key-policy-resource", [add("aws:kms/keyPolicy:KeyPolicy", "prod-exec-key-policy", {"keyId": "key-1", "policy": json_doc([{"Sid": "Any", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalAccount": "*"}}}])})],
         [("aws-kms-key-policy-principals", "prod-exec-key-policy")], "statement 'Any' allows Principal '*'"),
    case("bucket-public-access-open", [set_("prod-assets-block", "restrictPublicBuckets", False)], [("aws-s3-bucket-public-access-blocked", "prod-assets")], "no public access block sets all of blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets"),
    case("bucket-no-block", [remove("prod-assets-block")], [("aws-s3-bucket-public-access-blocked", "prod-assets")], "no public access block"),
    case("bucket-plain-http", [set_("prod-assets-policy", "policy", json_doc([{"Sid": "ApiReads", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/prod-api-task"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-prod-assets/*"}]))],
         [("aws-s3-bucket-tls-only", "prod-assets")], "no bucket policy denies requests without TLS"),
    case("bucket-public-read", [set_("prod-assets-policy", "policy", json_doc([{"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::acme-prod-assets/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}, {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-prod-assets/*"}]))],
         [("aws-s3-bucket-policy-principals", "prod-assets-policy")], "statement 'Public' allows Principal '*'"),
    case("secret-policy-anyone", [add("aws:secretsmanager/secretPolicy:SecretPolicy", "prod-db-secret-policy", {"secretArn": SECRET, "policy": json_doc([{"Sid": "Share", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}])})],
         [("aws-secretsmanager-policy-principals", "prod-db-secret-policy")], "statement 'Share' allows Principal '*'"),
    case("secret-policy-not-json", [add("aws:secretsmanager/secretPolicy:SecretPolicy", "prod-db-secret-policy", {"secretArn": SECRET, "policy": "[]"})],
         [("aws-secretsmanager-policy-principals", "prod-db-secret-policy")], "the resource policy is a JSON list, not a policy object"),
    # ---- task definitions
    case("privileged", [container("privileged", True)], [("aws-ecs-task-definition-no-privileged-containers", TASK)], "container 'api' is privileged"),
    case("capabilities", [container("linuxParameters", {"capabilities": {"add": ["SYS_ADMIN", "NET_ADMIN"], "drop": ["ALL"]}})], [("aws-ecs-task-definition-no-privileged-containers", TASK)], "adds Linux capabilities SYS_ADMIN, NET_ADMIN"),
    case("capabilities-kept", [container("linuxParameters", None)], [("aws-ecs-task-definition-drops-all-capabilities", TASK)], "container 'api' drops no Linux capabilities, so it keeps Docker's default capabilities"),
    case("capabilities-no-drop", [container("linuxParameters", {"initProcessEnabled": True, "capabilities": {"drop": []}})], [("aws-ecs-task-definition-drops-all-capabilities", TASK)], "drops no Linux capabilities"),
    case("capabilities-drop-some", [container("linuxParameters", {"capabilities": {"drop": ["NET_RAW", "SYS_ADMIN"]}})], [("aws-ecs-task-definition-drops-all-capabilities", TASK)], "container 'api' drops only NET_RAW, SYS_ADMIN"),
    case("root-writable", [container("readonlyRootFilesystem", False)], [("aws-ecs-task-definition-read-only-root-filesystem", TASK)], "container 'api' has a writable root filesystem"),
    case("root-default", [container("readonlyRootFilesystem", None)], [("aws-ecs-task-definition-read-only-root-filesystem", TASK)], "writable root filesystem"),
    case("logs-none", [container("logConfiguration", None)], [("aws-ecs-task-definition-logs-retained", TASK)], "logs with no driver"),
    case("logs-json-file", [container("logConfiguration", {"logDriver": "json-file"})], [("aws-ecs-task-definition-logs-retained", TASK)], "logs with json-file"),
    case("logs-unknown-group", [container("logConfiguration", {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/other"}})], [("aws-ecs-task-definition-logs-retained", TASK)], "'/ecs/other', which is not a log group of this stack"),
    case("logs-create-group", [container("logConfiguration", {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/prod/api", "awslogs-create-group": "true"}})], [("aws-ecs-task-definition-logs-retained", TASK)], "keeps logs forever"),
    case("logs-group-no-retention", [drop("prod-api-logs", "retentionInDays")],
         [("aws-cloudwatch-log-group-retention", "prod-api-logs"), ("aws-ecs-task-definition-logs-retained", TASK)], "which has no retention"),
    case("image-latest", [container("image", "nginx:latest")], [("aws-ecs-task-definition-pinned-image", TASK)], "'nginx:latest': latest is mutable"),
    case("image-untagged", [container("image", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/prod/api")], [("aws-ecs-task-definition-pinned-image", TASK)], "no tag means latest"),
    case("plain-password", [container("environment", [{"name": "DB_PASSWORD", "value": "hunter2"}])], [("aws-ecs-task-definition-no-plaintext-secrets", TASK)], "passes DB_PASSWORD as a plain environment variable"),
    case("plain-api-key", [container("environment", [{"name": "STRIPE_API_KEY", "value": "sk"}, {"name": "GITHUB_TOKEN", "value": "t"}])], [("aws-ecs-task-definition-no-plaintext-secrets", TASK)] * 2, "GITHUB_TOKEN"),
    case("same-roles", [set_(TASK, "taskRoleArn", f"arn:aws:iam::{ACCOUNT}:role/prod-api-exec"), lambda s: s[TASK]["links"].update(taskRoleArn=["prod-api-exec-role"])],
         [("aws-ecs-task-definition-separate-roles", TASK)], "the task role is the execution role"),
    case("host-network", [set_(TASK, "networkMode", "host")], [("aws-ecs-task-definition-no-host-namespaces", TASK)], "networkMode is host"),
    case("host-pid", [set_(TASK, "pidMode", "host")], [("aws-ecs-task-definition-no-host-namespaces", TASK)], "pidMode is host: the containers share the host PID namespace"),
    case("host-ipc", [set_(TASK, "ipcMode", "host")], [("aws-ecs-task-definition-no-host-namespaces", TASK)], "ipcMode is host"),
    # every container, keys as Go's decoder reads them (case-insensitively, the last spelling wins)
    case("user-unset", [container("user", None)], [("aws-ecs-task-definition-non-root-user", TASK)], "container 'api' sets no user, so it runs as the image's user"),
    case("user-0", [container("user", "0")], [("aws-ecs-task-definition-non-root-user", TASK)], "container 'api' runs as user '0', which is root"),
    case("user-00", [container("user", "00")], [("aws-ecs-task-definition-non-root-user", TASK)], "runs as user '00', which is root"),
    case("user-0-0", [container("user", "0:0")], [("aws-ecs-task-definition-non-root-user", TASK)], "runs as user '0:0', which is root"),
    case("user-root-group", [container("user", "root:10001")], [("aws-ecs-task-definition-non-root-user", TASK)], "runs as user 'root:10001', which is root"),
    case("user-upper-case-key", [container("user", None), container("User", "0")], [("aws-ecs-task-definition-non-root-user", TASK)], "runs as user '0', which is root"),
    case("user-spelt-twice", [containers_text(lambda t: t.replace('"user": "10001"', '"user": "10001", "USER": "root"'))], [("aws-ecs-task-definition-non-root-user", TASK)], "runs as user 'root', which is root"),
    case("writable-upper-case-key", [container("readonlyRootFilesystem", None), container("READONLYROOTFILESYSTEM", False)], [("aws-ecs-task-definition-read-only-root-filesystem", TASK)], "has a writable root filesystem"),
    case("capability-lower-case", [container("LinuxParameters", {"Capabilities": {"Add": ["sys_ptrace"], "Drop": ["ALL"]}}), container("linuxParameters", None)], [("aws-ecs-task-definition-no-privileged-containers", TASK)], "adds Linux capabilities sys_ptrace"),
    case("sidecar-as-root", [sidecar({"name": "log-router", "user": "0"})], [("aws-ecs-task-definition-non-root-user", TASK)], "container 'log-router' runs as user '0', which is root"),
    case("sidecar-privileged", [sidecar({"name": "agent", "privileged": True})], [("aws-ecs-task-definition-no-privileged-containers", TASK)], "container 'agent' is privileged"),
    case("sidecar-writable", [sidecar({"name": "agent", "readonlyRootFilesystem": False})], [("aws-ecs-task-definition-read-only-root-filesystem", TASK)], "container 'agent' has a writable root filesystem"),
    case("docker-socket", [set_(TASK, "volumes", [{"name": "docker", "hostPath": "/var/run/docker.sock"}])], [("aws-ecs-task-definition-mounts-declared-volumes", TASK), ("aws-ecs-task-definition-no-host-mounts", TASK)], "volume 'docker' mounts the host's /var/run/docker.sock"),
    case("containerd-socket", [set_(TASK, "volumes", [{"name": "cri", "hostPath": "/run/containerd/containerd.sock"}])], [("aws-ecs-task-definition-mounts-declared-volumes", TASK), ("aws-ecs-task-definition-no-host-mounts", TASK)], "mounts the host's /run/containerd/containerd.sock"),
    case("host-root", [set_(TASK, "volumes", [{"name": "host", "hostPath": "/"}])], [("aws-ecs-task-definition-mounts-declared-volumes", TASK), ("aws-ecs-task-definition-no-host-mounts", TASK)], "volume 'host' mounts the host's /"),
    case("host-root-spelt-oddly", [set_(TASK, "volumes", [{"name": "host", "hostPath": "//var/../"}])], [("aws-ecs-task-definition-mounts-declared-volumes", TASK), ("aws-ecs-task-definition-no-host-mounts", TASK)], "mounts the host's //var/../"),
    case("host-proc", [set_(TASK, "volumes", [{"name": "proc", "hostPath": "/proc/1/root"}])], [("aws-ecs-task-definition-mounts-declared-volumes", TASK), ("aws-ecs-task-definition-no-host-mounts", TASK)], "mounts the host's /proc/1/root"),
    case("host-sys", [set_(TASK, "volumes", [{"name": "sys", "hostPath": "/sys/"}])], [("aws-ecs-task-definition-mounts-declared-volumes", TASK), ("aws-ecs-task-definition-no-host-mounts", TASK)], "mounts the host's /sys/"),
    case("host-var-run", [set_(TASK, "volumes", [{"name": "run", "hostPath": "/var/run"}])], [("aws-ecs-task-definition-mounts-declared-volumes", TASK), ("aws-ecs-task-definition-no-host-mounts", TASK)], "mounts the host's /var/run"),
    case("local-driver-bind", [set_(TASK, "volumes", [{"name": "bind", "dockerVolumeConfiguration": {"driver": "local", "scope": "task", "driverOpts": {"type": "none", "o": "bind", "device": "/"}}}])],
         [("aws-ecs-task-definition-no-host-mounts", TASK)], "volume 'bind' binds the host's / through the local driver"),
    case("devices", [container("linuxParameters", {"capabilities": {"drop": ["ALL"]}, "devices": [{"hostPath": "/dev/mem", "containerPath": "/dev/mem"}]})], [("aws-ecs-task-definition-no-devices", TASK)], "container 'api' maps host devices /dev/mem"),
    case("seccomp-unconfined", [container("dockerSecurityOptions", ["seccomp:unconfined"])], [("aws-ecs-task-definition-confined", TASK)], "container 'api' sets dockerSecurityOptions 'seccomp:unconfined'"),
    case("apparmor-unconfined", [container("DockerSecurityOptions", ["APPARMOR=unconfined"])], [("aws-ecs-task-definition-confined", TASK)], "sets dockerSecurityOptions 'APPARMOR=unconfined'"),
    case("selinux-disabled", [container("dockerSecurityOptions", ["label:disable"])], [("aws-ecs-task-definition-confined", TASK)], "'label:disable'"),
    case("containers-not-json", [set_(TASK, "containerDefinitions", "[{name: api}]")], UNREAD_CONTAINERS, "containerDefinitions is not JSON, so its containers cannot be judged"),
    case("containers-an-object", [set_(TASK, "containerDefinitions", json.dumps({"name": "api", "user": "0"}))], UNREAD_CONTAINERS, "containerDefinitions is a JSON dict, not a list of containers"),
    case("containers-empty", [set_(TASK, "containerDefinitions", "[]")], UNREAD_CONTAINERS, "containerDefinitions has no containers"),
    # credentials in values (detect-secrets), wherever a value reaches a resource
    case("env-aws-key", [container("environment", [{"name": "LOG_LEVEL", "value": "info"}, {"name": "UPSTREAM_ID", "value": "AKIAIOSFODNN7EXAMPLE"}])], [(PLAIN, TASK)], "container 'api' environment UPSTREAM_ID holds a credential (AWS Access Key)"),
    case("env-url-with-password", [container("environment", [{"name": "DATABASE_URL", "value": "postgres://app:s3cr3t-pw@db.internal:5432/orders"}])], [(PLAIN, TASK)], "environment DATABASE_URL holds a credential (Basic Auth Credentials)"),
    case("env-random-under-secret-like-name", [container("environment", [{"name": "SESSION_SALT", "value": "q8Zr2Lx9Vb4Nw7Ty1Ks5Gm3Hp6Jd0Fc"}])], [(PLAIN, TASK)], "environment SESSION_SALT holds a high-entropy value under a secret-like name"),
    case("env-private-key", [container("environment", [{"name": "TLS", "value": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA"}])], [(PLAIN, TASK)], "environment TLS holds a credential (Private Key)"),
    case("command-token", [container("command", ["/app", "--github-token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"])], [(PLAIN, TASK)], "container 'api' command holds a credential (GitHub Token)"),
    case("entry-point-assignment", [container("entryPoint", ["sh", "-c", "DB_PASS=q8Zr2Lx9Vb4Nw7Ty1Ks5Gm3Hp6Jd0Fc exec /app"])], [(PLAIN, TASK)], "container 'api' entryPoint DB_PASS holds a high-entropy value"),
    case("sidecar-env-key", [sidecar({"name": "agent", "environment": [{"name": "DD_SITE", "value": "AKIAIOSFODNN7EXAMPLE"}]})], [(PLAIN, TASK)], "container 'agent' environment DD_SITE holds a credential (AWS Access Key)"),
    case("user-data-key", [set_("prod-general-lt", "userData", base64.b64encode(b"#!/bin/bash\necho ECS_CLUSTER=prod >> /etc/ecs/ecs.config\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n").decode())],
         [(PLAIN, "prod-general-lt")], "prod-general-lt: userData holds a credential (AWS Access Key)"),
    case("instance-user-data", [add("aws:ec2/instance:Instance", "prod-bastion", {"ami": "ami-1", "instanceType": "t3.micro", "userData": "#!/bin/bash\ncurl https://admin:hunter2x@repo.internal/setup | sh", **INSTANCE})],
         [(PLAIN, "prod-bastion")], "userData holds a credential (Basic Auth Credentials)"),
    case("string-parameter", [add("aws:ssm/parameter:Parameter", "prod-db-password", {"name": "/prod/api/DB_PASSWORD", "type": "String", "value": "hunter2"})], [(PLAIN, "prod-db-password")], "String parameter DB_PASSWORD is named like a secret"),
    case("state-machine-override", [add("aws:sfn/stateMachine:StateMachine", "prod-reports-flow", {"roleArn": "arn:role", "definition": json.dumps({"StartAt": "Run", "States": {"Run": {"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "Parameters": {"Overrides": {"ContainerOverrides": [{"Name": "reports", "Environment": [{"Name": "API_TOKEN", "Value": "t0k3n"}]}]}}, "End": True}}})})],
         [(PLAIN, "prod-reports-flow")], "definition environment API_TOKEN is named like a secret"),
    # ---- services
    case("public-ip", [set_(SERVICE, "networkConfiguration.assignPublicIp", True)], [("aws-ecs-service-no-public-ip", SERVICE)], "assignPublicIp is true"),
    case("public-subnet", [set_(SERVICE, "networkConfiguration.subnets", ["subnet-pub"]),
                           lambda s: s[SERVICE]["links"].update(networkConfiguration=["prod-api-sg", "prod-public-eu-west-1a"])],
         [("aws-ecs-service-private-subnets", SERVICE)], "its subnet prod-public-eu-west-1a is public: route table prod-public-rt routes to the internet gateway"),
    case("public-subnet-beside-private", [set_(SERVICE, "networkConfiguration.subnets", ["subnet-priv", "subnet-pub"]),
                                          lambda s: s[SERVICE]["links"].update(networkConfiguration=["prod-api-sg", "prod-private-eu-west-1a", "prod-public-eu-west-1a"])],
         [("aws-ecs-service-private-subnets", SERVICE)], "its subnet prod-public-eu-west-1a is public"),
    case("breaker-off", [set_(SERVICE, "deploymentCircuitBreaker.enable", False)], [("aws-ecs-service-circuit-breaker", SERVICE)], "circuit breaker with rollback is off"),
    case("breaker-no-rollback", [set_(SERVICE, "deploymentCircuitBreaker.rollback", False)], [("aws-ecs-service-circuit-breaker", SERVICE)], "circuit breaker"),
    case("breaker-missing", [drop(SERVICE, "deploymentCircuitBreaker")], [("aws-ecs-service-circuit-breaker", SERVICE)], "retries forever"),
    case("healthy-50", [set_(SERVICE, "deploymentMinimumHealthyPercent", 50)], [("aws-ecs-service-min-healthy-percent", SERVICE)], "deploymentMinimumHealthyPercent is 50, below 100"),
    case("unexposed-healthy-40", [drop(SERVICE, "loadBalancers"), set_(SERVICE, "deploymentMinimumHealthyPercent", 40)],
         [("aws-ecs-service-min-healthy-percent", SERVICE)], "deploymentMinimumHealthyPercent is 40, below 50 for a service without a load balancer"),
    case("exposed-healthy-50", [set_(SERVICE, "deploymentMinimumHealthyPercent", 50)],
         [("aws-ecs-service-min-healthy-percent", SERVICE)], "below 100 for a service behind the load balancer"),
    case("max-100", [set_(SERVICE, "deploymentMaximumPercent", 100)], [("aws-ecs-service-deployment-max-percent", SERVICE)],
         "deploymentMaximumPercent is 100 with deploymentMinimumHealthyPercent 100: at one task ECS can neither start a new task first nor stop the old one"),
    case("max-150", [set_(SERVICE, "deploymentMaximumPercent", 150)], [("aws-ecs-service-deployment-max-percent", SERVICE)], "deploymentMaximumPercent is 150"),
    case("min-50-max-100", [set_(SERVICE, "deploymentMinimumHealthyPercent", 50), set_(SERVICE, "deploymentMaximumPercent", 100)],
         [("aws-ecs-service-deployment-max-percent", SERVICE), ("aws-ecs-service-min-healthy-percent", SERVICE)], "deploymentMaximumPercent is 100 with deploymentMinimumHealthyPercent 50"),
    case("max-150-min-default", [drop(SERVICE, "deploymentMinimumHealthyPercent"), set_(SERVICE, "deploymentMaximumPercent", 150)],
         [("aws-ecs-service-deployment-max-percent", SERVICE)], "deploymentMaximumPercent is 150 with deploymentMinimumHealthyPercent 100"),
    case("spot-only", [set_(SERVICE, "capacityProviderStrategies", [{"capacityProvider": "FARGATE_SPOT", "weight": 1}])], [("aws-ecs-service-on-demand-share", SERVICE)], "the capacity strategy (FARGATE_SPOT) has no on-demand share"),
    case("fargate-without-base", [set_(SERVICE, "capacityProviderStrategies.0.base", 0)], [("aws-ecs-service-on-demand-share", SERVICE)], "(FARGATE, FARGATE_SPOT) has no on-demand share"),
    case("ec2-all-spot", [set_(SERVICE, "capacityProviderStrategies", [{"capacityProvider": "prod-general", "weight": 1}]),
                          set_("prod-general-asg", "mixedInstancesPolicy.instancesDistribution", {"onDemandBaseCapacity": 0, "onDemandPercentageAboveBaseCapacity": 0})],
         [("aws-ecs-service-on-demand-share", SERVICE)], "(prod-general) has no on-demand share"),
    case("default-strategy-spot", [drop(SERVICE, "capacityProviderStrategies"), set_("prod-cluster-capacity", "defaultCapacityProviderStrategies", [{"capacityProvider": "FARGATE_SPOT", "weight": 1}])],
         [("aws-ecs-service-on-demand-share", SERVICE)], "(FARGATE_SPOT) has no on-demand share"),
    case("no-grace", [drop(SERVICE, "healthCheckGracePeriodSeconds")], [("aws-ecs-service-health-check-grace-period", SERVICE)], "healthCheckGracePeriodSeconds is unset"),
    # ---- cluster
    case("insights-disabled", [set_("prod-cluster", "settings.0.value", "disabled")], [("aws-ecs-cluster-container-insights", "prod-cluster")], "containerInsights is disabled"),
    case("insights-unset", [set_("prod-cluster", "settings", [])], [("aws-ecs-cluster-container-insights", "prod-cluster")], "unset (disabled)"),
    case("exec-no-kms", [drop("prod-cluster", "configuration.executeCommandConfiguration.kmsKeyId")], [("aws-ecs-cluster-exec-audited", "prod-cluster")], "ECS Exec is on for prod-api-service but sessions are not encrypted"),
    case("exec-default-logging", [set_("prod-cluster", "configuration.executeCommandConfiguration.logging", "DEFAULT")], [("aws-ecs-cluster-exec-audited", "prod-cluster")], "session logging is DEFAULT, not OVERRIDE"),
    case("exec-unencrypted-logs", [set_("prod-cluster", "configuration.executeCommandConfiguration.logConfiguration.cloudWatchEncryptionEnabled", False)], [("aws-ecs-cluster-exec-audited", "prod-cluster")], "no encrypted log group or bucket"),
    case("no-default-strategy", [set_("prod-cluster-capacity", "defaultCapacityProviderStrategies", [])], [("aws-ecs-cluster-default-capacity-strategy", "prod-cluster")], "has no default capacity provider strategy"),
    case("no-capacity-providers", [remove("prod-cluster-capacity")], [("aws-ecs-cluster-default-capacity-strategy", "prod-cluster")], "no default capacity provider strategy"),
    case("scaling-off", [set_("prod-general", "autoScalingGroupProvider.managedScaling.status", "DISABLED")], [("aws-ecs-capacity-provider-managed-scaling", "prod-general")], "managed scaling is off"),
    case("termination-unprotected", [set_("prod-general", "autoScalingGroupProvider.managedTerminationProtection", "DISABLED")], [("aws-ecs-capacity-provider-managed-scaling", "prod-general")], "managed termination protection is off"),
    # ---- EC2
    case("imdsv1", [set_("prod-general-lt", "metadataOptions.httpTokens", "optional")], [("aws-ec2-launch-template-imdsv2", "prod-general-lt")], "httpTokens is optional"),
    case("imds-default", [drop("prod-general-lt", "metadataOptions")], [("aws-ec2-launch-template-imdsv2", "prod-general-lt")], "optional (the default)"),
    case("hop-limit-2", [set_("prod-general-lt", "metadataOptions.httpPutResponseHopLimit", 2)], [("aws-ec2-launch-template-imdsv2", "prod-general-lt")], "httpPutResponseHopLimit is 2"),
    case("volume-unencrypted", [set_("prod-general-lt", "blockDeviceMappings.0.ebs.encrypted", "false")], [("aws-ec2-launch-template-encrypted-volumes", "prod-general-lt")], "the volume /dev/xvda is not encrypted"),
    case("volume-default", [drop("prod-general-lt", "blockDeviceMappings.0.ebs.encrypted")], [("aws-ec2-launch-template-encrypted-volumes", "prod-general-lt")], "not encrypted"),
    case("lt-public-ip", [set_("prod-general-lt", "networkInterfaces.0.associatePublicIpAddress", "true")], [("aws-ec2-launch-template-no-public-ip", "prod-general-lt")], "network interface 0 associates a public IP"),
    case("service-open-to-world", [set_("prod-api-sg-from-alb", "cidrIpv4", "0.0.0.0/0")], [("aws-ec2-security-group-no-public-ingress", "prod-api-sg-from-alb")], "rule admits 0.0.0.0/0 on tcp 8080-8080"),
    case("alb-ssh-open", [lambda s: s["prod-alb-sg"]["props"]["ingress"].append({"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"], "description": "ssh"})],
         [("aws-ec2-security-group-no-public-ingress", "prod-alb-sg")], "ingress[2] admits 0.0.0.0/0 on tcp 22-22"),
    case("ipv6-open-rule", [add("aws:ec2/securityGroupRule:SecurityGroupRule", "prod-api-sg-v6", {"type": "ingress", "securityGroupId": "sg-api", "protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"], "description": "everything"}, links={"securityGroupId": ["prod-api-sg"]})],
         [("aws-ec2-security-group-no-public-ingress", "prod-api-sg-v6")], "admits ::/0 on -1 0-0"),
    case("internal-alb-open", [set_("prod-alb", "internal", True)],
         [("aws-ec2-security-group-no-public-ingress", "prod-alb-sg")] * 2, "ingress[0] admits 0.0.0.0/0 on tcp 443-443"),
    case("rule-undescribed", [set_("prod-api-sg-from-alb", "description", "")], [("aws-ec2-security-group-rules-described", "prod-api-sg-from-alb")], "rule (ingress tcp 8080-8080) has no description"),
    case("inline-egress-undescribed", [drop("prod-alb-sg", "egress.0.description")], [("aws-ec2-security-group-rules-described", "prod-alb-sg")], "egress[0] (egress tcp 8080-8080) has no description"),
    case("default-sg-rules", [set_("prod-default-sg", "egress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}])], [("aws-ec2-default-security-group-no-rules", "prod-vpc")], "the default security group has rules"),
    case("default-sg-not-adopted", [remove("prod-default-sg")], [("aws-ec2-default-security-group-no-rules", "prod-vpc")], "is not adopted"),
    case("egress-all-traffic", [set_("prod-api-sg", "egress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"], "description": "everything"}])],
         [("aws-ec2-security-group-egress-restricted", "prod-api-sg")], "egress[0] allows all traffic (-1 0-0) to 0.0.0.0/0"),
    case("egress-all-ports-v6", [add("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "prod-api-sg-v6-out", {"securityGroupId": "sg-api", "ipProtocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrIpv6": "::/0", "description": "all tcp"}, links={"securityGroupId": ["prod-api-sg"]})],
         [("aws-ec2-security-group-egress-restricted", "prod-api-sg-v6-out")], "rule allows all traffic (tcp 0-65535) to ::/0"),
    case("egress-all-to-split-halves", [set_("prod-api-sg", "egress", [{"protocol": "all", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"], "description": "everything"}])],
         [("aws-ec2-security-group-egress-restricted", "prod-api-sg")], "allows all traffic (all 0-0) to 0.0.0.0/1, 128.0.0.0/1"),
    case("ingress-from-half-the-internet", [set_("prod-api-sg-from-alb", "cidrIpv4", "0.0.0.0/1")], [("aws-ec2-security-group-no-public-ingress", "prod-api-sg-from-alb")], "rule admits 0.0.0.0/1 on tcp 8080-8080"),
    case("ingress-from-a-public-range", [set_("prod-api-sg-from-alb", "cidrIpv4", "8.8.8.0/24")], [("aws-ec2-security-group-no-public-ingress", "prod-api-sg-from-alb")], "rule admits 8.8.8.0/24 on tcp 8080-8080"),
    case("instance-imdsv1", [add("aws:ec2/instance:Instance", "prod-bastion", {"ami": "ami-1", "instanceType": "t3.micro", **INSTANCE, "metadataOptions": {"httpTokens": "optional"}})], [("aws-ec2-launch-template-imdsv2", "prod-bastion")], "httpTokens is optional"),
    case("instance-unencrypted-root", [add("aws:ec2/instance:Instance", "prod-bastion", {"ami": "ami-1", "instanceType": "t3.micro", **INSTANCE, "rootBlockDevice": {"encrypted": False}})], [("aws-ec2-launch-template-encrypted-volumes", "prod-bastion")], "the root volume is not encrypted"),
    case("instance-public-ip", [add("aws:ec2/instance:Instance", "prod-bastion", {"ami": "ami-1", "instanceType": "t3.micro", **INSTANCE, "associatePublicIpAddress": True})], [("aws-ec2-launch-template-no-public-ip", "prod-bastion")], "associatePublicIpAddress is true"),
    case("subnet-auto-public-ip", [set_("prod-public-eu-west-1a", "mapPublicIpOnLaunch", True)], [("aws-vpc-subnet-no-auto-public-ip", "prod-public-eu-west-1a")], "mapPublicIpOnLaunch is on"),
    case("flow-logs-reject-only", [set_("prod-flow-log", "trafficType", "REJECT")], [("aws-vpc-flow-logs", "prod-vpc")], "its flow logs record REJECT traffic only, not ALL"),
    case("alb-alias-type", [add("aws:alb/loadBalancer:LoadBalancer", "prod-internal-alb", {"internal": True, "loadBalancerType": "application", "dropInvalidHeaderFields": False, "enableDeletionProtection": True, "accessLogs": {"bucket": "acme-prod-alb-logs", "enabled": True}, "subnets": ["subnet-priv"]})],
         [("aws-lb-drop-invalid-headers", "prod-internal-alb"), ("aws-lb-https-only", "prod-internal-alb")], "prod-internal-alb: dropInvalidHeaderFields is off"),
    case("alb-desync-monitor", [set_("prod-alb", "desyncMitigationMode", "monitor")], [("aws-lb-desync-mitigation", "prod-alb")], "desyncMitigationMode is monitor"),
    case("code-deploy-drops-tasks", [set_(SERVICE, "deploymentController", {"type": "CODE_DEPLOY"}), set_(SERVICE, "deploymentMinimumHealthyPercent", 50)], [("aws-ecs-service-min-healthy-percent", SERVICE)], "deploymentMinimumHealthyPercent is 50"),
    case("external-task-set-public-ip", [set_(SERVICE, "deploymentController", {"type": "EXTERNAL"}), add("aws:ecs/taskSet:TaskSet", "prod-api-blue", {"service": "arn:svc", "cluster": "arn:cluster", "taskDefinition": "arn:task", "networkConfiguration": {"assignPublicIp": True, "subnets": ["subnet-priv"], "securityGroups": ["sg-api"]}}, links={"networkConfiguration": ["prod-api-sg", "prod-private-eu-west-1a"]})],
         [("aws-ecs-service-no-public-ip", "prod-api-blue")], "assignPublicIp is true"),
    # ---- VPC
    case("no-flow-logs", [remove("prod-flow-log")], [("aws-vpc-flow-logs", "prod-vpc")], "has no flow log"),
    case("private-via-igw", [set_("prod-private-default-eu-west-1a", "gatewayId", "igw-1"), drop("prod-private-default-eu-west-1a", "natGatewayId"),
                             lambda s: s["prod-private-default-eu-west-1a"]["links"].update(gatewayId=["prod-igw"], natGatewayId=[])],
         # The service in that subnet is then in a public subnet too (a Route resource, not an inline route).
         [("aws-ecs-service-private-subnets", SERVICE), ("aws-vpc-private-subnet-no-internet-gateway", "prod-private-eu-west-1a")],
         "its route table prod-private-rt-eu-west-1a routes to the internet gateway"),
    case("no-nat-missing-endpoints", [remove("prod-nat-eu-west-1a")], [("aws-ec2-security-group-egress-restricted", "prod-api-sg"), ("aws-vpc-endpoints-without-nat", "prod-vpc")],
         "lacks the VPC endpoints ec2messages, ecr.dkr, ecs, ecs-agent, ecs-telemetry, kms, logs, secretsmanager, ssm, ssmmessages,"),
    case("endpoint-public-dns", [set_("prod-endpoint-ecr-api", "privateDnsEnabled", False)], [("aws-vpc-endpoint-private-dns", "prod-endpoint-ecr-api")], "com.amazonaws.eu-west-1.ecr.api has privateDnsEnabled off"),
    # ---- IAM
    case("action-service-star", [statement("prod-api-task-role", 0, Action=["s3:*"])], [("aws-iam-no-wildcard-actions", "prod-api-task-role")], "inline policy 'task' statement 'Config' allows \"s3:*\", every action of s3"),
    case("action-double-star", [statement("prod-api-task-role", 0, Action="sqs:**", Resource=ORDERS)], [("aws-iam-no-wildcard-actions", "prod-api-task-role")], "allows \"sqs:**\", every action of sqs"),
    case("action-upper-case", [statement("prod-api-task-role", 0, Action="S3:*")], [("aws-iam-no-wildcard-actions", "prod-api-task-role")], "allows \"S3:*\", every action of s3"),
    case("action-across-services", [statement("prod-api-task-role", 0, Action="*:Get*")], [("aws-iam-no-wildcard-actions", "prod-api-task-role")], "allows \"*:Get*\", actions of every service"),
    case("action-star", [statement("prod-api-task-role", 0, Action="*", Resource="arn:aws:s3:::acme-config/*")], [("aws-iam-no-wildcard-actions", "prod-api-task-role")] + [("aws-iam-pass-role-scoped", "prod-api-task-role")] * 2, "allows \"*\", actions of every service"),
    case("iam-glob-grants-pass-role", [statement("prod-api-task-role", 0, Action="iam:P*", Resource=f"arn:aws:iam::{ACCOUNT}:role/prod-api-task")], [("aws-iam-pass-role-scoped", "prod-api-task-role")], "grants iam:PassRole without an iam:PassedToService condition"),
    case("not-action", [statement("prod-api-task-role", 0, NotAction="iam:*")], [("aws-iam-no-wildcard-actions", "prod-api-task-role")], "allows NotAction"),
    case("resource-star", [statement("prod-api-task-role", 0, Resource="*")], [("aws-iam-no-wildcard-resources", "prod-api-task-role")], "grants Read s3:GetObject on Resource \"*\""),
    case("glob-write-on-every-bucket", [statement("prod-api-task-role", 0, Action="s3:*Object", Resource="arn:aws:s3:::*/*")], [("aws-iam-no-wildcard-resources", "prod-api-task-role")],
         "grants Write s3:DeleteObject, s3:PutObject, s3:ReplicateObject, s3:RestoreObject; Read s3:GetObject on \"arn:aws:s3:::*/*\", a wildcard in the resource's own identifier"),
    case("bucket-name-prefix", [statement("prod-api-task-role", 0, Resource="arn:aws:s3:::acme-*/*")], [("aws-iam-no-wildcard-resources", "prod-api-task-role")], "arn:aws:s3:::acme-*/*"),
    case("resource-any-account", [statement("prod-api-task-role", 0, Action="sqs:SendMessage", Resource="arn:aws:sqs:eu-west-1:*:orders")], [("aws-iam-no-wildcard-resources", "prod-api-task-role")], "grants Write sqs:SendMessage on \"arn:aws:sqs:eu-west-1:*:orders\", any account"),
    case("resource-any-region", [statement("prod-api-task-role", 0, Action="sqs:SendMessage", Resource=f"arn:aws:sqs:*:{ACCOUNT}:orders")], [("aws-iam-no-wildcard-resources", "prod-api-task-role")], "any region"),
    case("resource-arn-star", [statement("prod-api-task-role", 0, Resource="arn:*")], [("aws-iam-no-wildcard-resources", "prod-api-task-role")], "\"arn:*\", a wildcard ARN"),
    case("task-reads-every-secret", [statement("prod-api-task-role", 0, Action="secretsmanager:GetSecretValue", Resource=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:*")], [("aws-iam-execution-role-secrets-scoped", "prod-api-task-role"), ("aws-iam-no-wildcard-resources", "prod-api-task-role")], "secret:*\", a wildcard in the resource's own identifier"),
    case("decrypt-every-key", [statement("prod-api-task-role", 0, Action="kms:Decrypt", Resource=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*")], [("aws-iam-no-wildcard-resources", "prod-api-task-role")], "grants Write kms:Decrypt on"),
    case("not-resource", [statement("prod-api-task-role", 0, NotResource="arn:aws:s3:::secret-bucket/*")], [("aws-iam-no-wildcard-resources", "prod-api-task-role")], "allows NotResource"),
    case("pass-any-role", [statement("prod-api-task-role", 0, Action="iam:PassRole", Resource=f"arn:aws:iam::{ACCOUNT}:role/*", Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})],
         [("aws-iam-no-wildcard-resources", "prod-api-task-role"), ("aws-iam-pass-role-scoped", "prod-api-task-role")], "grants iam:PassRole on \"arn:aws:iam::123456789012:role/*\", not one exact role"),
    case("pass-role-any-service", [statement("prod-api-task-role", 0, Action="iam:PassRole", Resource=f"arn:aws:iam::{ACCOUNT}:role/prod-api-task")], [("aws-iam-pass-role-scoped", "prod-api-task-role")], "without an iam:PassedToService condition"),
    case("assume-role-prefix", [statement("prod-api-task-role", 0, Action="sts:AssumeRole", Resource=f"arn:aws:iam::{ACCOUNT}:role/prod-*")],
         [("aws-iam-no-wildcard-resources", "prod-api-task-role"), ("aws-iam-pass-role-scoped", "prod-api-task-role")], "grants sts:AssumeRole on \"arn:aws:iam::123456789012:role/prod-*\", not one exact role"),
    case("document-not-an-object", [set_("prod-api-task-role", "inlinePolicies.0.policy", "[1, 2]")], [("aws-iam-no-wildcard-actions", "prod-api-task-role")], "inline policy 'task' is a JSON list, not a policy object, so what it grants cannot be judged"),
    case("document-not-json", [set_("prod-api-task-role", "inlinePolicies.0.policy", "{Statement: all}")], [("aws-iam-no-wildcard-actions", "prod-api-task-role")], "inline policy 'task' is not JSON"),
    case("role-policy-resource", [add("aws:iam/rolePolicy:RolePolicy", "prod-api-extra", {"role": "prod-api-task", "policy": json_doc([{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"}])}, links={"role": ["prod-api-task-role"]})],
         [("aws-iam-no-wildcard-actions", "prod-api-extra")], "policy statement '(no Sid)' allows \"dynamodb:*\", every action of dynamodb"),
    case("managed-policy-resource", [add("aws:iam/policy:Policy", "prod-api-managed", {"policy": json_doc([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}])})],
         [("aws-iam-no-wildcard-resources", "prod-api-managed")], "grants Write s3:PutObject on Resource \"*\""),
    case("iam-user", [add("aws:iam/user:User", "prod-deployer", {"name": "deployer"})], [("aws-iam-no-users", "prod-deployer")], "the stack creates an IAM User"),
    case("access-key", [add("aws:iam/accessKey:AccessKey", "prod-deployer-key", {"user": "deployer"})], [("aws-iam-no-users", "prod-deployer-key")], "the stack creates an IAM AccessKey"),
    # ---- trust
    case("trust-account", [trust_policy({"AWS": "arn:aws:iam::999999999999:root"})],
         [("aws-iam-role-trust", "prod-api-task-role")], "the trust policy admits AWS arn:aws:iam::999999999999:root (another account) without an sts:ExternalId condition"),
    case("trust-account-id", [trust_policy({"AWS": "999999999999"})], [("aws-iam-role-trust", "prod-api-task-role")], "admits AWS 999999999999 (another account)"),
    case("trust-lambda", [trust_policy({"Service": ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]}, ECS_CONDITION)],
         [("aws-iam-role-trust", "prod-api-task-role")], "admits Service lambda.amazonaws.com"),
    case("trust-anyone", [trust_policy("*")], [("aws-iam-role-trust", "prod-api-task-role")], "the trust policy admits '*', anyone with AWS credentials"),
    case("trust-any-account-root", [trust_policy({"AWS": "arn:aws:iam::*:root"}, {"StringEquals": {"sts:ExternalId": "x"}})], [("aws-iam-role-trust", "prod-api-task-role")], "anyone with AWS credentials"),
    case("trust-not-principal", [set_("prod-api-task-role", "assumeRolePolicy", json_doc([{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]))],
         [("aws-iam-role-trust", "prod-api-task-role")], "allows NotPrincipal"),
    case("trust-no-source-account", [trust_policy({"Service": "ecs-tasks.amazonaws.com"})], [("aws-iam-role-trust", "prod-api-task-role")], "admits ecs-tasks.amazonaws.com without a aws:SourceAccount condition (confused deputy)"),
    case("trust-source-account-glob", [trust_policy({"Service": "ecs-tasks.amazonaws.com"}, {"StringLike": {"aws:SourceAccount": "*"}})], [("aws-iam-role-trust", "prod-api-task-role")], "without a aws:SourceAccount condition"),
    case("trust-source-account-if-exists", [trust_policy({"Service": "ecs-tasks.amazonaws.com"}, {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}})], [("aws-iam-role-trust", "prod-api-task-role")], "without a aws:SourceAccount condition"),
    case("trust-flow-logs-no-source-arn", [trust_policy({"Service": "vpc-flow-logs.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT}})], [("aws-iam-role-trust", "prod-api-task-role")], "admits vpc-flow-logs.amazonaws.com without a aws:SourceArn condition"),
    case("trust-github-any-repo", [trust_policy({"Federated": GITHUB}, {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}, "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}, "sts:AssumeRoleWithWebIdentity")],
         [("aws-iam-role-trust", "prod-api-task-role")] * 2, "GitHub tokens are not pinned to one repository and branch or environment"),
    case("trust-github-any-branch", [trust_policy({"Federated": GITHUB}, {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}, "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/platform:*"}}, "sts:AssumeRoleWithWebIdentity")],
         [("aws-iam-role-trust", "prod-api-task-role")] * 2, "StringLike on GitHub's claims widens the pinned StringEquals"),
    case("trust-github-no-audience", [trust_policy({"Federated": GITHUB}, {"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:acme/platform:ref:refs/heads/main"}}, "sts:AssumeRoleWithWebIdentity")],
         [("aws-iam-role-trust", "prod-api-task-role")], "GitHub tokens are not pinned to StringEquals token.actions.githubusercontent.com:aud sts.amazonaws.com"),
    case("trust-not-json", [set_("prod-api-task-role", "assumeRolePolicy", "ecs-tasks")], [("aws-iam-role-trust", "prod-api-task-role")], "the trust policy is not JSON"),
    # ---- managed policies
    case("admin-managed", [set_("prod-api-task-role", "managedPolicyArns", ["arn:aws:iam::aws:policy/AdministratorAccess"])], [("aws-iam-no-admin-policies", "prod-api-task-role")], "attaches arn:aws:iam::aws:policy/AdministratorAccess, which grants administration or whole services"),
    case("poweruser-attachment", [add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "prod-api-task-power", {"role": "prod-api-task", "policyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}, links={"role": ["prod-api-task-role"]})],
         [("aws-iam-no-admin-policies", "prod-api-task-power")], "attaches arn:aws:iam::aws:policy/PowerUserAccess"),
    case("full-access-attachment", [add("aws:iam/policyAttachment:PolicyAttachment", "prod-api-s3-full", {"roles": ["prod-api-task"], "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}, links={"roles": ["prod-api-task-role"]})],
         [("aws-iam-no-admin-policies", "prod-api-s3-full")], "AmazonS3FullAccess, which grants administration or whole services"),
    case("instance-policy-on-task-role", [set_("prod-api-task-role", "managedPolicyArns", ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"])], [("aws-iam-no-admin-policies", "prod-api-task-role")], "which is for EC2 container instance roles only"),
    case("other-managed-policy", [set_("prod-api-exec-role", "managedPolicyArns", ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"])], [("aws-iam-no-admin-policies", "prod-api-exec-role")], "an AWS managed policy not scoped to this stack's resources"),
    case("exec-reads-other-secret", [statement("prod-api-exec-role", 3, Resource=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/admin-ZzZzZz")],
         [("aws-iam-execution-role-secrets-scoped", "prod-api-exec-role")], "lets the execution role read arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/admin-ZzZzZz"),
    case("exec-reads-all-secrets", [statement("prod-api-exec-role", 3, Resource=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/*")],
         [("aws-iam-execution-role-secrets-scoped", "prod-api-exec-role"), ("aws-iam-no-wildcard-resources", "prod-api-exec-role")], "secret:prod/*, which its task definitions do not reference"),
    case("exec-reads-other-parameter", [statement("prod-api-exec-role", 4, Action="ssm:GetParameter*", Resource=f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/admin/key")],
         [("aws-iam-execution-role-secrets-scoped", "prod-api-exec-role")], "parameter/prod/admin/key"),
    # ---- load balancer
    case("no-https-listener", [remove("prod-alb-https"), remove("prod-api-rule")], [("aws-lb-https-only", "prod-alb")], "has no HTTPS listener"),
    case("http-forwards", [set_("prod-alb-http", "defaultActions", [{"type": "forward", "targetGroupArn": "arn:tg"}])], [("aws-lb-https-only", "prod-alb")], "the HTTP listener prod-alb-http serves traffic"),
    case("rule-on-http", [lambda s: s["prod-api-rule"]["links"].update(listenerArn=["prod-alb-http"])], [("aws-lb-https-only", "prod-alb")], "the rule prod-api-rule forwards plain HTTP on prod-alb-http"),
    case("old-tls", [set_("prod-alb-https", "sslPolicy", "ELBSecurityPolicy-2016-08")], [("aws-lb-listener-modern-tls", "prod-alb-https")], "sslPolicy is ELBSecurityPolicy-2016-08"),
    case("default-tls", [drop("prod-alb-https", "sslPolicy")], [("aws-lb-listener-modern-tls", "prod-alb-https")], "ELBSecurityPolicy-2016-08 (the default)"),
    case("invalid-headers", [set_("prod-alb", "dropInvalidHeaderFields", False)], [("aws-lb-drop-invalid-headers", "prod-alb")], "dropInvalidHeaderFields is off"),
    case("alb-deletable", [drop("prod-alb", "enableDeletionProtection")], [("aws-lb-deletion-protection", "prod-alb")], "enableDeletionProtection is off"),
    case("alb-no-access-logs", [drop("prod-alb", "accessLogs")], [("aws-lb-access-logs", "prod-alb")], "access logs are off"),
    case("tg-no-health-check", [drop("prod-api-tg", "healthCheck")], [("aws-lb-target-group-health-check", "prod-api-tg")], "has no explicit health check"),
    case("tg-health-disabled", [set_("prod-api-tg", "healthCheck.enabled", False)], [("aws-lb-target-group-health-check", "prod-api-tg")], "its health check is disabled"),
    case("tg-health-no-path", [drop("prod-api-tg", "healthCheck.path")], [("aws-lb-target-group-health-check", "prod-api-tg")], "has no path"),
    # ---- logs and tags
    case("retention-unset", [drop("prod-exec-logs", "retentionInDays")], [("aws-cloudwatch-log-group-retention", "prod-exec-logs")], "retentionInDays is unset, so logs never expire"),
    case("retention-short", [set_("prod-exec-logs", "retentionInDays", 30)], [("aws-cloudwatch-log-group-retention", "prod-exec-logs")], "retentionInDays is 30, below the production minimum of 90"),
    case("tag-missing", [set_("prod-vpc", "tags", {"env": "prod"})], [("aws-tags-required", "prod-vpc")], "prod-vpc: lacks the tags team. Fix:"),
    case("asg-tag-missing", [set_("prod-general-asg", "tags", [])], [("aws-tags-required", "prod-general-asg")], "lacks the tags env, team"),
]


def test_the_compliant_stack_passes_every_policy(pack):
    verdict = pack.verdict(edited())
    assert verdict.violations == ()
    assert verdict.not_applicable == ()


def test_a_service_without_a_load_balancer_may_keep_half_its_tasks_during_a_rollout(pack):
    # The spec's production worker runs min_healthy_percent 50 / max_percent 200.
    verdict = pack.verdict(edited(drop(SERVICE, "loadBalancers"), set_(SERVICE, "deploymentMinimumHealthyPercent", 50)))
    assert [v.policy for v in verdict.violations] == []


@pytest.mark.parametrize("edits, expected, fragment", CASES)
def test_each_mutation_fails_exactly_its_policy(pack, edits, expected, fragment):
    verdict = pack.verdict(edited(*edits))
    assert verdict.summary() == sorted((policy, "mandatory", resource) for policy, resource in expected)
    messages = [v.message for v in verdict.violations]
    assert any(fragment in m for m in messages), messages
    for violation in verdict.violations:
        rule = RULES_BY_NAME[violation.policy]
        # The description leads, then "<resource>: <problem>. Fix: <remediation>".
        assert violation.message.startswith(rule.description + "\n" + violation.resource + ": ")
        assert violation.message.endswith(". Fix: " + rule.remediation)


@pytest.mark.parametrize("edits", [
    pytest.param([set_(SERVICE, "deploymentMaximumPercent", 100), set_(SERVICE, "deploymentMinimumHealthyPercent", 0)], id="min-0-stops-first"),
    pytest.param([drop(SERVICE, "deploymentMaximumPercent")], id="max-default-200"),
    pytest.param([set_(SERVICE, "deploymentMaximumPercent", 100), set_(SERVICE, "schedulingStrategy", "DAEMON")], id="daemon"),
    pytest.param([set_(SERVICE, "deploymentMaximumPercent", 100), set_(SERVICE, "deploymentController", {"type": "CODE_DEPLOY"})], id="blue-green"),
    pytest.param([container("linuxParameters", {"capabilities": {"drop": ["all"]}})], id="drop-all-lowercase"),
    pytest.param([container("linuxParameters", None), container("user", None), set_(TASK, "runtimePlatform", {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"})], id="windows-no-linux-parameters-or-user"),
    pytest.param([container("user", "10001:10001"), sidecar({"name": "agent", "user": "1337"})], id="non-root-uid-and-gid"),
    pytest.param([set_(TASK, "volumes", [{"name": "scratch"}, {"name": "cache", "dockerVolumeConfiguration": {"driver": "local", "scope": "task"}}])], id="task-volumes"),
    pytest.param([container("dockerSecurityOptions", ["no-new-privileges"])], id="no-new-privileges"),
    pytest.param([add("aws:ec2/instance:Instance", "prod-bastion", {"ami": "ami-1", "instanceType": "t3.micro", **INSTANCE})], id="compliant-instance"),
    pytest.param([set_("prod-exec-key", "policy", json_doc([{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}, {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.eu-west-1.amazonaws.com"}, "Action": ["kms:Encrypt*", "kms:Decrypt*"], "Resource": "*"}, {"Sid": "ViaAccount", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}}]))], id="key-policy-root-service-and-caller-account"),
    pytest.param([set_("prod-exec-key", "keySpec", "RSA_4096"), set_("prod-exec-key", "keyUsage", "SIGN_VERIFY"), set_("prod-exec-key", "enableKeyRotation", False)], id="asymmetric-keys-do-not-rotate"),
    pytest.param([set_(REPO, "imageTagMutability", "IMMUTABLE_WITH_EXCLUSION"), set_(REPO, "imageTagMutabilityExclusionFilters", [{"filter": "latest", "filterType": "WILDCARD"}])], id="exclusion-of-one-tag"),
    pytest.param([set_("prod-alb", "desyncMitigationMode", "strictest")], id="desync-strictest"),
    pytest.param([set_("prod-api-sg-from-alb", "cidrIpv4", "100.64.0.0/10")], id="shared-address-space-is-not-public"),
    pytest.param([container("environment", [{"name": "DATABASE_URL", "value": "postgres://db.internal:5432/orders"}, {"name": "QUEUE_URL", "value": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"}])], id="urls-without-credentials"),
    pytest.param([add("aws:ssm/parameter:Parameter", "prod-db-password", {"name": "/prod/api/DB_PASSWORD", "type": "SecureString", "value": "q8Zr2Lx9Vb4Nw7Ty1Ks5Gm3Hp6Jd0Fc"})], id="secure-string-parameter"),
    pytest.param([set_(SERVICE, "networkConfiguration.subnets", ["subnet-shared"]), lambda s: s[SERVICE]["links"].update(networkConfiguration=["prod-api-sg"])], id="subnet-outside-the-stack"),
    pytest.param([trust_policy({"AWS": "arn:aws:iam::999999999999:root"}, {"StringEquals": {"sts:ExternalId": "acme-7f3a"}})], id="other-account-with-external-id"),
    pytest.param([trust_policy({"Federated": GITHUB}, {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:acme/platform:environment:prod"}}, "sts:AssumeRoleWithWebIdentity")], id="github-one-environment"),
    pytest.param([trust_policy({"Federated": GITHUB}, {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:acme/platform:ref:refs/heads/main"}}, "sts:AssumeRoleWithWebIdentity")], id="github-one-branch"),
    pytest.param([statement("prod-api-task-role", 0, Action="iam:PassRole", Resource=f"arn:aws:iam::{ACCOUNT}:role/prod-api-task", Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})], id="pass-one-role-to-ecs"),
    pytest.param([statement("prod-api-task-role", 0, Action=["ecs:DescribeTaskDefinition", "ecs:RunTask"], Resource=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/prod-api:*")], id="task-definition-revisions"),
    pytest.param([statement("prod-api-task-role", 0, Action="logs:PutLogEvents", Resource=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/prod/api:log-stream:*")], id="streams-of-one-group"),
    pytest.param([statement("prod-api-exec-role", 3, Resource=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-??????")], id="secret-random-suffix"),
    pytest.param([statement("prod-api-task-role", 0, Action=["s3:ListAllMyBuckets", "cloudwatch:PutMetricData"], Resource="*")], id="star-only-actions-on-star"),
])
def test_edges_the_new_rules_accept(pack, edits):
    """min 0 lets ECS stop a task first; DAEMON and blue/green ignore maximumPercent; a
    Windows task has no linuxParameters; a subnet of another stack cannot be judged here;
    IAM's legitimate narrow forms (an external id, one GitHub environment or branch, one role
    passed to one service, children under an exact parent, the secret suffix, actions that
    support only "*") pass."""
    config = all_mandatory(production=False)  # min 0 fails aws-ecs-service-min-healthy-percent in production only
    assert pack.verdict(edited(*edits), config).violations == ()


def test_every_rule_has_a_failing_case():
    covered = {policy for param in CASES for policy, _ in param.values[1]}
    # The log-group KMS and waiver rules are tested in test_config.py, the delivery rules in
    # test_delivery_rules.py, the EFS rule in test_workload_rules.py (host paths also fail the volume rule here),
    # the Service Connect rule in test_service_connect_rule.py.
    assert sorted(set(RULES_BY_NAME) - covered) == [
        "aws-cloudwatch-alarm-has-action", "aws-cloudwatch-log-group-kms", "aws-ecs-service-connect-logs", "aws-ecs-service-exposed-alarms",
        "aws-ecs-task-definition-efs-encrypted-iam", "aws-pack-waiver-valid"
    ]


def test_the_public_range_threshold_is_configurable(pack):
    """Every public range is the internet by default; a rule may accept narrower ones."""
    narrow = edited(set_("prod-api-sg-from-alb", "cidrIpv4", "8.8.8.0/24"))
    assert pack.verdict(narrow).summary() == [("aws-ec2-security-group-no-public-ingress", "mandatory", "prod-api-sg-from-alb")]
    config = all_mandatory(**{"aws-ec2-security-group-no-public-ingress": {"publicIpv4MaxPrefix": 16}})
    assert pack.verdict(narrow, config).violations == ()
