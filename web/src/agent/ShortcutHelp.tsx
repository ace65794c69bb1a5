/** The "?" overlay: every keyboard shortcut and what it does (loaded when first opened). */
import { Kbd, Modal, Table } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { WORK_NS } from "./i18n/register";
import { SHORTCUTS } from "./Shortcuts";

export default function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation(WORK_NS);
  const { t: tc } = useTranslation();
  return (
    <Modal
      opened
      onClose={onClose}
      title={t("keys.title")}
      closeButtonProps={{ "aria-label": tc("common.close") }}
    >
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">{t("keys.key")}</Table.Th>
            <Table.Th scope="col">{t("keys.action")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {SHORTCUTS.map((shortcut) => (
            <Table.Tr key={shortcut.action}>
              <Table.Td>
                <Kbd>{shortcut.keys}</Kbd>
              </Table.Td>
              <Table.Td>{t(`keys.do.${shortcut.action}`)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Modal>
  );
}
