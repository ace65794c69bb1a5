import { Select } from "@mantine/core";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { LANGUAGES } from "../shared/i18n/i18n";
import { setTimeZone, timeZones, useTimeZone } from "../shared/i18n/timezone";

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <Select
      label={t("prefs.language")}
      data={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))}
      value={i18n.resolvedLanguage ?? "en"}
      onChange={(value) => value && void i18n.changeLanguage(value)}
      allowDeselect={false}
      size="xs"
      w={170}
    />
  );
}

export function TimeZoneSwitch() {
  const { t } = useTranslation();
  const zone = useTimeZone();
  const zones = useMemo(() => timeZones(), []);
  return (
    <Select
      label={t("prefs.timeZone")}
      data={zones}
      value={zone}
      onChange={(value) => value && setTimeZone(value)}
      searchable
      allowDeselect={false}
      size="xs"
      w={190}
      comboboxProps={{ withinPortal: true }}
    />
  );
}
