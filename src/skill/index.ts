export {
  installSkill,
  type SkillChange,
  type SkillInstallRequest,
  type SkillRequest,
  uninstallSkill,
} from './install-skill.ts';
export { LOKI_SKILL_NAME, lokiSkillMarkdown } from './loki-skill-document.ts';
export type { SkillScope } from './skill-locations.ts';
