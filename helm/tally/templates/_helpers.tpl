{{/* Chart name, overridable with nameOverride. */}}
{{- define "tally.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's resources: <release>-<chart>, or the release name when it already holds the chart name. */}}
{{- define "tally.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The headless Service that gives each StatefulSet pod a stable DNS name. */}}
{{- define "tally.headlessServiceName" -}}
{{- printf "%s-headless" (include "tally.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the pods (never change them after install: StatefulSet selectors are immutable). */}}
{{- define "tally.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tally.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "tally.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tally.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Where the config and the secret files live in the container. Secret paths in tally.yaml are relative to the config's directory. */}}
{{- define "tally.configDir" -}}/etc/tally{{- end }}
{{- define "tally.configPath" -}}{{ include "tally.configDir" . }}/tally.yaml{{- end }}
{{- define "tally.apiTokensDir" -}}secrets/api-tokens{{- end }}
{{- define "tally.kafkaSaslDir" -}}secrets/kafka-sasl{{- end }}
{{- define "tally.kafkaTlsDir" -}}secrets/kafka-tls{{- end }}

{{/* Fails the render when `key` is set in the mapping `map`; `where` names it, `instead` says what to use. */}}
{{- define "tally.refuseKey" -}}
{{- if hasKey .map .key }}
{{- fail (printf "config.%s.%s is set by the chart; %s" .where .key .instead) }}
{{- end }}
{{- end }}

{{/*
tally.yaml: .Values.config with the chart-controlled fields written in.
Refuses chart-controlled fields and inline secrets in .Values.config, so
the mounts and the config can never disagree.
*/}}
{{- define "tally.config" -}}
{{- $config := deepCopy (default (dict) .Values.config) }}
{{- $secrets := .Values.secrets }}
{{- /* app.stateDir: the state volume's mount path. */}}
{{- $app := default (dict) $config.app }}
{{- include "tally.refuseKey" (dict "map" $app "where" "app" "key" "stateDir" "instead" "set persistence.mountPath instead") }}
{{- $_ := set $app "stateDir" .Values.persistence.mountPath }}
{{- /* app.shutdownTimeout: shorter than the pod's grace period, so Tally ends on its own deadline before the kubelet's SIGKILL. */}}
{{- include "tally.refuseKey" (dict "map" $app "where" "app" "key" "shutdownTimeout" "instead" "set shutdownTimeoutSeconds instead (the chart keeps it below terminationGracePeriodSeconds)") }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int .Values.shutdownTimeoutSeconds) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be longer than shutdownTimeoutSeconds (%d): Kubernetes would kill the pod before Tally's own shutdown deadline" (int .Values.terminationGracePeriodSeconds) (int .Values.shutdownTimeoutSeconds)) }}
{{- end }}
{{- $_ := set $app "shutdownTimeout" (printf "PT%dS" (int .Values.shutdownTimeoutSeconds)) }}
{{- $_ := set $config "app" $app }}
{{- /* http: listen on every interface at httpPort; tokens only from a Secret. */}}
{{- $http := default (dict) $config.http }}
{{- include "tally.refuseKey" (dict "map" $http "where" "http" "key" "host" "instead" "the pod listens on 0.0.0.0") }}
{{- include "tally.refuseKey" (dict "map" $http "where" "http" "key" "port" "instead" "set httpPort instead") }}
{{- include "tally.refuseKey" (dict "map" $http "where" "http" "key" "tokens" "instead" "put the tokens in a Secret and set secrets.apiTokens.existingSecret (secrets never go in values)") }}
{{- include "tally.refuseKey" (dict "map" $http "where" "http" "key" "tokensFile" "instead" "set secrets.apiTokens.existingSecret instead") }}
{{- $_ := set $http "host" "0.0.0.0" }}
{{- $_ := set $http "port" (int .Values.httpPort) }}
{{- if $secrets.apiTokens.existingSecret }}
{{- $_ := set $http "tokensFile" (printf "%s/%s" (include "tally.apiTokensDir" .) $secrets.apiTokens.key) }}
{{- end }}
{{- $_ := set $config "http" $http }}
{{- /* kafka: SASL password and TLS material only from Secrets. */}}
{{- $kafka := default (dict) $config.kafka }}
{{- if kindIs "map" $kafka.sasl }}
{{- include "tally.refuseKey" (dict "map" $kafka.sasl "where" "kafka.sasl" "key" "password" "instead" "put the password in a Secret and set secrets.kafkaSasl.existingSecret (secrets never go in values)") }}
{{- include "tally.refuseKey" (dict "map" $kafka.sasl "where" "kafka.sasl" "key" "passwordFile" "instead" "set secrets.kafkaSasl.existingSecret instead") }}
{{- end }}
{{- if $secrets.kafkaSasl.existingSecret }}
{{- if not (and (kindIs "map" $kafka.sasl) $kafka.sasl.mechanism) }}
{{- fail "secrets.kafkaSasl.existingSecret is set but config.kafka.sasl.mechanism is not; set config.kafka.sasl.mechanism (plain, scram-sha-256 or scram-sha-512) and config.kafka.sasl.username" }}
{{- end }}
{{- $_ := set $kafka.sasl "passwordFile" (printf "%s/%s" (include "tally.kafkaSaslDir" .) $secrets.kafkaSasl.passwordKey) }}
{{- end }}
{{- if kindIs "map" $kafka.ssl }}
{{- range $key := list "key" "passphrase" "pfx" }}
{{- include "tally.refuseKey" (dict "map" $kafka.ssl "where" "kafka.ssl" "key" $key "instead" "put TLS material in a Secret and set secrets.kafkaTls.existingSecret (secrets never go in values)") }}
{{- end }}
{{- range $key := list "ca" "cert" "caFile" "certFile" "keyFile" }}
{{- if $secrets.kafkaTls.existingSecret }}
{{- include "tally.refuseKey" (dict "map" $kafka.ssl "where" "kafka.ssl" "key" $key "instead" "it is read from secrets.kafkaTls.existingSecret") }}
{{- end }}
{{- end }}
{{- end }}
{{- if $secrets.kafkaTls.existingSecret }}
{{- if eq (toString $kafka.ssl) "false" }}
{{- fail "config.kafka.ssl is false but secrets.kafkaTls.existingSecret is set; remove one of them" }}
{{- end }}
{{- if not (or $secrets.kafkaTls.caKey $secrets.kafkaTls.certKey $secrets.kafkaTls.keyKey) }}
{{- fail "secrets.kafkaTls.existingSecret is set but caKey, certKey and keyKey are all empty; name at least one key of that Secret" }}
{{- end }}
{{- $ssl := ternary $kafka.ssl (dict) (kindIs "map" $kafka.ssl) }}
{{- $dir := include "tally.kafkaTlsDir" . }}
{{- with $secrets.kafkaTls.caKey }}{{ $_ := set $ssl "caFile" (printf "%s/%s" $dir .) }}{{ end }}
{{- with $secrets.kafkaTls.certKey }}{{ $_ := set $ssl "certFile" (printf "%s/%s" $dir .) }}{{ end }}
{{- with $secrets.kafkaTls.keyKey }}{{ $_ := set $ssl "keyFile" (printf "%s/%s" $dir .) }}{{ end }}
{{- $_ := set $kafka "ssl" $ssl }}
{{- end }}
{{- $_ := set $config "kafka" $kafka }}
{{- toYaml $config }}
{{- end }}

{{/* A Secret volume with only the listed keys, each as a file of the same name (read-only to the pod's group). */}}
{{- define "tally.secretVolume" -}}
- name: {{ .name }}
  secret:
    secretName: {{ .secretName }}
    defaultMode: 0440
    items:
      {{- range .keys }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
{{- end }}
