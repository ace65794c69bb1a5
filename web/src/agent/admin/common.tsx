/** Small pieces the admin screens share: a save-result line and a mutation that refreshes. */
import { Alert, Text } from "@mantine/core";
import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";

/** A mutation that refetches the given queries when it succeeds. */
export function useSaving<V>(run: (vars: V) => Promise<unknown>, refresh: QueryKey[]) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: async () => {
      await Promise.all(refresh.map((key) => queryClient.invalidateQueries({ queryKey: key })));
    },
  });
}

/** The outcome of the last save: the API's error text, or "Saved." (announced politely). */
export function SaveResult({ error, done }: { error: Error | null; done: boolean }) {
  const { t } = useTranslation();
  if (error) {
    return (
      <Alert color="red" role="alert" variant="light">
        {error.message}
      </Alert>
    );
  }
  return (
    <Text size="sm" role="status" mih={20}>
      {done ? t("admin.saved") : ""}
    </Text>
  );
}
