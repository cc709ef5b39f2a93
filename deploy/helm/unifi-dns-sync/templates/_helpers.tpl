{{/* Names, labels and the rendered configuration, shared by every template. */}}

{{/* The chart name (or nameOverride), 63 characters at most. */}}
{{- define "unifi-dns-sync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's resource name: fullnameOverride, else release name + chart name. */}}
{{- define "unifi-dns-sync.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "unifi-dns-sync.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the pod. */}}
{{- define "unifi-dns-sync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "unifi-dns-sync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every resource. */}}
{{- define "unifi-dns-sync.labels" -}}
helm.sh/chart: {{ include "unifi-dns-sync.chart" . }}
{{ include "unifi-dns-sync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The ServiceAccount the pod runs as. */}}
{{- define "unifi-dns-sync.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "unifi-dns-sync.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the API keys and the web token: existingSecret or the chart's. */}}
{{- define "unifi-dns-sync.secretName" -}}
{{- default (include "unifi-dns-sync.fullname" .) .Values.secret.existingSecret -}}
{{- end -}}

{{/* The PersistentVolumeClaim mounted at /data: existingClaim or the chart's. */}}
{{- define "unifi-dns-sync.claimName" -}}
{{- default (include "unifi-dns-sync.fullname" .) .Values.persistence.existingClaim -}}
{{- end -}}

{{/* repository:tag, or repository@digest; the tag defaults to the chart's appVersion. */}}
{{- define "unifi-dns-sync.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The variable holding a controller's API key (argument: the controller's name):
     UNIFI_API_KEY_<NAME>, upper-case, "-" as "_". It never starts with UNIFI_DNS_SYNC_, so it
     cannot be mistaken for a config override. */}}
{{- define "unifi-dns-sync.apiKeyEnv" -}}
{{- printf "UNIFI_API_KEY_%s" (. | upper | replace "-" "_") -}}
{{- end -}}

{{/* The Secret key holding a controller's API key (argument: the controller's entry). */}}
{{- define "unifi-dns-sync.apiKeySecretKey" -}}
{{- default (printf "api-key-%s" .name) .apiKeySecretKey -}}
{{- end -}}

{{/* Checks what the schema cannot: at least one controller, unique names, no secrets in the
     config, a key for every controller when the chart creates the Secret. */}}
{{- define "unifi-dns-sync.validate" -}}
{{- if not .Values.config.controllers -}}
{{- fail "config.controllers is empty: add at least one UniFi console (name, url, tls), e.g. --set-json 'config.controllers=[{\"name\":\"hq\",\"url\":\"https://192.168.1.1\"}]'" -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $c := .Values.config.controllers -}}
{{- if hasKey $seen $c.name -}}
{{- fail (printf "config.controllers: the name %q is used twice; controller names must be unique" $c.name) -}}
{{- end -}}
{{- $_ := set $seen $c.name true -}}
{{- if and (not $.Values.secret.existingSecret) (not (get $.Values.secret.apiKeys $c.name)) -}}
{{- fail (printf "secret.apiKeys.%s is not set: give the API key of controller %q (--set-file secret.apiKeys.%s=FILE), or name a Secret of your own in secret.existingSecret" $c.name $c.name $c.name) -}}
{{- end -}}
{{- end -}}
{{- range $s := .Values.config.sites -}}
{{- $controller := (splitList "/" $s.match) | first -}}
{{- if not (hasKey $seen $controller) -}}
{{- fail (printf "config.sites: match %q names controller %q, which is not in config.controllers" $s.match $controller) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The config file (TOML). The database and the listener are fixed to the volume and the
     container port. Helm reads every number as a float, so the integer keys are converted back
     with `int` before toToml (the loader refuses 10.0 where a whole number is expected). */}}
{{- define "unifi-dns-sync.config" -}}
{{- $cfg := dict -}}
{{- $_ := set $cfg "database" (dict "url" "sqlite:///data/dns_sync.db") -}}
{{- $_ := set $cfg "web" (dict "listen" "0.0.0.0:8080") -}}
{{- $sync := deepCopy .Values.config.sync -}}
{{- if hasKey $sync "threshold_min_copies" -}}
{{- $_ := set $sync "threshold_min_copies" (int $sync.threshold_min_copies) -}}
{{- end -}}
{{- if and (hasKey $sync "clients") (hasKey $sync.clients "ttl") -}}
{{- $_ := set $sync.clients "ttl" (int $sync.clients.ttl) -}}
{{- end -}}
{{- $_ := set $cfg "sync" $sync -}}
{{- $controllers := list -}}
{{- range $c := .Values.config.controllers -}}
{{- $out := omit $c "apiKeySecretKey" -}}
{{- range $k := list "priority" "max_parallel_writes" "max_parallel_reads" -}}
{{- if hasKey $c $k -}}
{{- $_ := set $out $k (int (get $c $k)) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $out "api_key_env" (include "unifi-dns-sync.apiKeyEnv" $c.name) -}}
{{- $controllers = append $controllers $out -}}
{{- end -}}
{{- if $controllers -}}
{{- $_ := set $cfg "controller" $controllers -}}
{{- end -}}
{{- if .Values.config.sites -}}
{{- $_ := set $cfg "site" .Values.config.sites -}}
{{- end -}}
# unifi-dns-sync configuration, rendered by the Helm chart from the release's values.
# Edit the values (config.*), not this file. API keys are not here: each controller's
# api_key_env names a variable the pod reads from the Secret.
{{ toToml $cfg }}
{{- end -}}
