/**
 * The rich-text field of replies and notes: TipTap through Mantine's RichTextEditor (bold,
 * italic, lists, links, quotes, code). It produces HTML; the ticket service sanitises every
 * body (nh3) before it stores it, so the editor is a convenience, not a trust boundary.
 */
import "@mantine/tiptap/styles.css";
import { RichTextEditor } from "@mantine/tiptap";
import { Placeholder } from "@tiptap/extension-placeholder";
import { useEditor, type AnyExtension, type Editor } from "@tiptap/react";
import StarterKit from "@tiptap/starter-kit";
import { useTranslation } from "react-i18next";
import { AGENT_NS } from "./i18n/register";

/** An editor; `extra` extensions (e.g. mentions) are read once, at its creation. */
export function useRichText(
  label: string,
  onChange: (html: string, empty: boolean) => void,
  extra: AnyExtension[] = [],
) {
  return useEditor({
    extensions: [
      StarterKit.configure({ heading: false, link: { openOnClick: false } }),
      Placeholder.configure({ placeholder: label }),
      ...extra,
    ],
    immediatelyRender: true,
    editorProps: {
      attributes: { "aria-label": label, role: "textbox", "aria-multiline": "true" },
    },
    onUpdate: ({ editor }) => onChange(editor.getHTML(), editor.isEmpty),
  });
}

export function RichText({ editor, tint }: { editor: Editor | null; tint?: string }) {
  const { t } = useTranslation(AGENT_NS);
  const labels = {
    boldControlLabel: t("composer.bold"),
    italicControlLabel: t("composer.italic"),
    bulletListControlLabel: t("composer.bulletList"),
    orderedListControlLabel: t("composer.orderedList"),
    linkControlLabel: t("composer.link"),
    unlinkControlLabel: t("composer.unlink"),
    blockquoteControlLabel: t("composer.blockquote"),
    codeControlLabel: t("composer.code"),
  };
  return (
    <RichTextEditor editor={editor} labels={labels}>
      <RichTextEditor.Toolbar aria-label={t("composer.toolbar")}>
        <RichTextEditor.ControlsGroup>
          <RichTextEditor.Bold />
          <RichTextEditor.Italic />
          <RichTextEditor.Code />
        </RichTextEditor.ControlsGroup>
        <RichTextEditor.ControlsGroup>
          <RichTextEditor.BulletList />
          <RichTextEditor.OrderedList />
          <RichTextEditor.Blockquote />
        </RichTextEditor.ControlsGroup>
        <RichTextEditor.ControlsGroup>
          <RichTextEditor.Link />
          <RichTextEditor.Unlink />
        </RichTextEditor.ControlsGroup>
      </RichTextEditor.Toolbar>
      <RichTextEditor.Content mih={120} bg={tint} />
    </RichTextEditor>
  );
}
