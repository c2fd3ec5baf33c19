{{/* The release's prefix of every object's name. */}}
{{- define "retail.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains "retail" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-retail" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "retail.selectorLabels" -}}
app.kubernetes.io/name: retail
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "retail.labels" -}}
{{ include "retail.selectorLabels" . }}
app.kubernetes.io/part-of: retail-care
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "retail.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
Every process of the platform: its module (python -m), port, ConfigMap (the settings class it reads), Secret,
Kafka user (a key of kafka.users) and its kind: an api (Deployment, autoscaled), a worker of a consumer group
(Deployment) or a stream worker (StatefulSet with its RocksDB volume and static membership).
*/}}
{{- define "retail.components" -}}
complaints: {values: complaints, module: services.complaints, port: 8001, config: complaints, secret: complaints, kafkaUser: complaints, kind: api}
complaints-worker: {values: complaintsWorker, module: services.complaints.worker, port: 8008, config: complaints, secret: complaints, kafkaUser: complaintsWorker, kind: worker}
scheduling: {values: scheduling, module: services.scheduling, port: 8006, config: scheduling, secret: scheduling, kafkaUser: scheduling, kind: api}
scheduling-worker: {values: schedulingWorker, module: services.scheduling.worker, port: 8007, config: scheduling, secret: scheduling, kafkaUser: schedulingWorker, kind: worker}
notifications: {values: notifications, module: services.notifications, port: 8009, config: notifications, secret: notifications, kafkaUser: notifications, kind: api}
boards: {values: boards, module: services.escalation.boards, port: 8002, config: escalation, secret: boards, kafkaUser: boards, kind: api}
reports: {values: reports, module: services.analytics.reports, port: 8004, config: analytics, kafkaUser: reports, kind: api}
webapp: {values: webapp, module: services.webapp, port: 8010, config: webapp, secret: webapp, kind: api}
escalation: {values: escalation, module: services.escalation, port: 8005, config: escalation, kafkaUser: escalation, kind: stream, dataDir: ESCALATION_DATA_DIR, instanceId: ESCALATION_INSTANCE_ID}
analytics: {values: analytics, module: services.analytics, port: 8003, config: analytics, kafkaUser: analytics, kind: stream, dataDir: ANALYTICS_DATA_DIR, instanceId: ANALYTICS_INSTANCE_ID}
{{- end -}}

{{/* What each Secret of `secrets` must (or may, optional) hold, as the variable it becomes. */}}
{{- define "retail.secretKeys" -}}
platform:
  RETAIL_AUTH_SIGNING_KEY: {key: auth-signing-key}
complaints:
  COMPLAINTS_DATABASE_URL: {key: database-url}
  COMPLAINTS_CUSTOMER_REF_KEY: {key: customer-ref-key}
  COMPLAINTS_SMTP_PASSWORD: {key: smtp-password, optional: true}
  COMPLAINTS_WEBHOOK_SIGNING_KEY: {key: webhook-signing-key, optional: true}
  COMPLAINTS_SMS_GATEWAY_TOKEN: {key: sms-gateway-token, optional: true}
scheduling:
  SCHEDULING_DATABASE_URL: {key: database-url}
notifications:
  NOTIFICATIONS_DATABASE_URL: {key: database-url}
  NOTIFICATIONS_LINK_SIGNING_KEY: {key: link-signing-key}
  NOTIFICATIONS_WEBHOOK_SIGNING_KEY: {key: webhook-signing-key}
  NOTIFICATIONS_SMTP_PASSWORD: {key: smtp-password, optional: true}
  NOTIFICATIONS_SMS_GATEWAY_TOKEN: {key: sms-gateway-token, optional: true}
boards:
  ESCALATION_BOARDS_DATABASE_URL: {key: database-url}
webapp:
  WEBAPP_SESSION_KEY: {key: session-key}
  WEBAPP_OIDC_CLIENT_SECRET: {key: oidc-client-secret, optional: true}
{{- end -}}

{{/* The settings the chart sets itself, per ConfigMap: where each process listens and finds the others. */}}
{{- define "retail.managedConfig" -}}
{{- $c := include "retail.components" . | fromYaml -}}
{{- $url := printf "http://%s-%%s:%%v" (include "retail.fullname" .) -}}
{{- $migrate := ternary "false" "true" .Values.setup.enabled -}}
complaints:
  COMPLAINTS_HOST: 0.0.0.0
  COMPLAINTS_PORT: {{ $c.complaints.port | quote }}
  COMPLAINTS_WORKER_PORT: {{ (index $c "complaints-worker").port | quote }}
  COMPLAINTS_MIGRATE_ON_START: {{ $migrate | quote }}
scheduling:
  SCHEDULING_HOST: 0.0.0.0
  SCHEDULING_PORT: {{ $c.scheduling.port | quote }}
  SCHEDULING_WORKER_PORT: {{ (index $c "scheduling-worker").port | quote }}
  SCHEDULING_MIGRATE_ON_START: {{ $migrate | quote }}
notifications:
  NOTIFICATIONS_HOST: 0.0.0.0
  NOTIFICATIONS_PORT: {{ $c.notifications.port | quote }}
  NOTIFICATIONS_MIGRATE_ON_START: {{ $migrate | quote }}
  NOTIFICATIONS_SCHEDULING_URL: {{ printf $url "scheduling" $c.scheduling.port }}
  NOTIFICATIONS_COMPLAINTS_URL: {{ printf $url "complaints" $c.complaints.port }}
escalation:
  ESCALATION_HOST: 0.0.0.0
  ESCALATION_PORT: {{ $c.boards.port | quote }}
  ESCALATION_WORKER_HOST: 0.0.0.0
  ESCALATION_WORKER_PORT: {{ $c.escalation.port | quote }}
  ESCALATION_DATA_DIR: /data/escalation
  ESCALATION_BOARDS_MIGRATE_ON_START: {{ $migrate | quote }}
analytics:
  ANALYTICS_HOST: 0.0.0.0
  ANALYTICS_PORT: {{ $c.analytics.port | quote }}
  ANALYTICS_REPORTS_HOST: 0.0.0.0
  ANALYTICS_REPORTS_PORT: {{ $c.reports.port | quote }}
  ANALYTICS_DATA_DIR: /data/analytics
webapp:
  WEBAPP_HOST: 0.0.0.0
  WEBAPP_PORT: {{ $c.webapp.port | quote }}
  WEBAPP_COMPLAINTS_URL: {{ printf $url "complaints" $c.complaints.port }}
  WEBAPP_SCHEDULING_URL: {{ printf $url "scheduling" $c.scheduling.port }}
  WEBAPP_NOTIFICATIONS_URL: {{ printf $url "notifications" $c.notifications.port }}
  WEBAPP_BOARDS_URL: {{ printf $url "boards" $c.boards.port }}
{{- end -}}

{{/* RETAIL_KAFKA_* but the user and password, which are each process's own. */}}
{{- define "retail.kafkaConfig" -}}
RETAIL_KAFKA_BOOTSTRAP_SERVERS: {{ .Values.kafka.bootstrapServers | quote }}
RETAIL_KAFKA_REPLICATION_FACTOR: {{ .Values.kafka.replicationFactor | quote }}
RETAIL_KAFKA_SECURITY_PROTOCOL: {{ .Values.kafka.securityProtocol | quote }}
{{- if and (eq .Values.kafka.securityProtocol "SASL_SSL") .Values.kafka.caSecret.name }}
RETAIL_KAFKA_SSL_CA_FILE: /etc/retail/kafka/ca.pem
{{- end }}
{{- end -}}

{{/* One ConfigMap's data: the values' settings, then the chart's own (which win). */}}
{{- define "retail.configData" -}}
{{- $managed := index (include "retail.managedConfig" .root | fromYaml) .group | default dict -}}
{{- $settings := merge (dict) $managed (index .root.Values.config .group | default dict) -}}
{{- range $name, $value := $settings }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Environment variables from Secrets: the platform's signing key, the component's own keys, its Kafka password. */}}
{{- define "retail.secretEnv" -}}
{{- $keys := include "retail.secretKeys" .root | fromYaml -}}
{{- $secrets := .root.Values.secrets -}}
{{- range $group := compact (list "platform" .component.secret) }}
{{- range $name, $ref := index $keys $group }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ index $secrets $group | quote }}
      key: {{ $ref.key }}
      {{- if $ref.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- with .component.kafkaUser }}
{{- $user := index $.root.Values.kafka.users . }}
{{- if ne $.root.Values.kafka.securityProtocol "PLAINTEXT" }}
- name: RETAIL_KAFKA_SASL_USERNAME
  value: {{ $user.username | quote }}
- name: RETAIL_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $user.secret | quote }}
      key: {{ $user.key | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "retail.kafkaCaVolume" -}}
{{- if and .Values.kafka.caSecret.name (eq .Values.kafka.securityProtocol "SASL_SSL") }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.caSecret.name | quote }}
    items:
      - {key: {{ .Values.kafka.caSecret.key | quote }}, path: ca.pem}
{{- end }}
{{- end -}}

{{- define "retail.kafkaCaMount" -}}
{{- if and .Values.kafka.caSecret.name (eq .Values.kafka.securityProtocol "SASL_SSL") }}
- {name: kafka-ca, mountPath: /etc/retail/kafka, readOnly: true}
{{- end }}
{{- end -}}

{{/* The pod template of one component: dict with root, name (component) and component (its facts). */}}
{{- define "retail.podTemplate" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component.values -}}
{{- $full := include "retail.fullname" $root -}}
metadata:
  labels:
    {{- include "retail.labels" . | nindent 4 }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmaps.yaml") $root | sha256sum }}
    {{- if $root.Values.metrics.annotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ .component.port | quote }}
    prometheus.io/path: /metrics
    {{- end }}
spec:
  automountServiceAccountToken: false
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- if eq .component.kind "stream" }}
  terminationGracePeriodSeconds: 60  # commits its offsets and flushes its tables' changelogs
  {{- end }}
  containers:
    - name: {{ .name }}
      image: {{ include "retail.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      command: ["python", "-m", {{ .component.module | quote }}]
      ports:
        - {name: http, containerPort: {{ .component.port }}}
      envFrom:
        - configMapRef: {name: {{ $full }}-platform}
        {{- if .component.kafkaUser }}
        - configMapRef: {name: {{ $full }}-kafka}
        {{- end }}
        - configMapRef: {name: {{ $full }}-{{ .component.config }}}
      env:
        {{- include "retail.secretEnv" . | trim | nindent 8 }}
        {{- with .component.instanceId }}
        - name: {{ . }}  # Kafka static membership: a restarted pod gets its partitions back at once
          valueFrom:
            fieldRef: {fieldPath: metadata.name}
        {{- end }}
        {{- with $values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      startupProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: 5
        failureThreshold: 60
      livenessProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 6
      readinessProbe:
        httpGet: {path: /readyz, port: http}
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 3
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - {name: tmp, mountPath: /tmp}
        {{- if eq .component.kind "stream" }}
        - {name: data, mountPath: /data}
        {{- end }}
        {{- with include "retail.kafkaCaMount" $root | trim }}{{ . | nindent 8 }}{{ end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- with include "retail.kafkaCaVolume" $root | trim }}{{ . | nindent 4 }}{{ end }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
