import { FileInput, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { MAX_ATTACHMENT_BYTES } from "./data";
import { NAMESPACE } from "./texts";

/** Pick files to attach (each at most 20 MB, checked here and again by the service). */
export function AttachmentPicker({
  label,
  files,
  onChange,
}: {
  label: string;
  files: File[];
  onChange: (files: File[]) => void;
}) {
  const { t } = useTranslation(NAMESPACE);
  const tooLarge = files.filter((file) => file.size > MAX_ATTACHMENT_BYTES);
  return (
    <>
      <FileInput
        label={label}
        multiple
        clearable
        clearButtonProps={{ "aria-label": t("create.clearFiles") }}
        value={files}
        onChange={onChange}
        error={tooLarge.length > 0 ? t("create.tooLarge", { name: tooLarge[0]?.name }) : undefined}
      />
      {files.length > 0 && (
        <Text size="xs" c="dimmed">
          {files.map((file) => `${file.name} (${Math.ceil(file.size / 1024)} KB)`).join(", ")}
        </Text>
      )}
    </>
  );
}

export function withinLimit(files: File[]): boolean {
  return files.every((file) => file.size <= MAX_ATTACHMENT_BYTES);
}
